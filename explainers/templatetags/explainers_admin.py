"""Template tags of the render job pages: the live progress panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from explainers.admin_views import REFRESH_SECONDS, job_progress
from explainers.models import RenderJob

register = template.Library()


@register.inclusion_tag("admin/explainers/renderjob/progress_panel.html", takes_context=True)
def job_progress_panel(context: dict[str, Any], job: RenderJob) -> dict[str, Any]:
    return {
        "job": job,
        "progress": job_progress(job),
        "progress_url": reverse("admin:explainers_renderjob_progress", args=[job.pk]),
        "rerun_url": reverse("admin:explainers_renderjob_rerun", args=[job.pk]),
        "can_rerun": context["request"].user.has_perm("explainers.change_renderjob"),
        "refresh_seconds": REFRESH_SECONDS,
        "csrf_token": context.get("csrf_token"),
    }
