"""Template tags of the researcher's admin pages: the study's launch panel and the monitor's numbers."""

from __future__ import annotations

from typing import Any

from django import template

from survey.admin import formatting
from survey.admin.launch import launch_context
from survey.models import Study

register = template.Library()
register.filter("duration_text", formatting.duration_text)
register.filter("rate_text", formatting.rate_text)


@register.inclusion_tag("admin/survey/study/launch_panel.html", takes_context=True)
def launch_panel(context: dict[str, Any], study: Study) -> dict[str, Any]:
    return launch_context(study=study, request=context["request"])
