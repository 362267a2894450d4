"""What the study, condition and question admins share: the frozen-structure rule and image previews."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib import admin
from django.core.files.images import get_image_dimensions
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from survey.models import ExtraQuestion, Question, Study
from survey.services.selection_audit import SELECTION_COUNT_LABELS


def thumb(image: FieldFile | None, alt: str) -> SafeString:
    if not image or not image.name:
        return mark_safe('<strong style="color:#ba2121">missing</strong>')
    return format_html('<img src="{}" alt="{}" style="max-height:80px;max-width:160px">', image.url, alt)


def _study_of(obj: Model | None) -> Study | None:
    return obj if obj is None or isinstance(obj, Study) else obj.study  # a condition's or a question's


def frozen(request: HttpRequest, obj: Model | None) -> bool:
    """Whether obj's study is past editing; asked once per study and request, of the saved study.

    The saved study, not obj: a form that opens the study changes obj.status before the inlines are
    saved, and those inlines were offered (and must be saved) as the draft's.
    """
    study = _study_of(obj)
    if study is None or study.pk is None:
        return False
    known = request.__dict__.setdefault("_survey_frozen", {})
    if study.pk not in known:
        known[study.pk] = not editable_studies().filter(pk=study.pk).exists()
    return known[study.pk]


def editable_studies() -> QuerySet[Study]:
    """Drafts no real participant has started: a pilot's participants do not freeze the design, so a
    study may go back from its pilot to a draft, be fixed, and be piloted or opened again."""
    return Study.objects.filter(status=Study.Status.DRAFT).exclude(participants__is_pilot=False)


def image_sizes_record(row: Model) -> None:
    """Record the size of ``row``'s image as uploaded in the admin: the question page scales by it."""
    image = getattr(row, "image", None)
    if not image or not hasattr(row, "image_width"):
        return
    try:
        row.image_width, row.image_height = get_image_dimensions(image)
    except (OSError, ValueError):  # no file yet, or not an image: the form says so; the page uses its box
        row.image_width = row.image_height = None


def preview_links(study: Study) -> SafeString | str:
    """Links to take the survey as a participant of each condition would, recording nothing."""
    if study.pk is None:
        return "—"
    links = [
        (reverse("survey:preview", kwargs={"slug": study.slug, "condition": c.key}), c.name)
        for c in study.conditions.all()
    ]
    return format_html_join(" · ", '<a href="{}" target="_blank">{}</a>', links) if links else "—"


class FrozenStructureInline(admin.TabularInline):
    """Rows of a study's structure: editable in a draft nobody took part in, otherwise only shown."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_add_permission(request, obj) and not frozen(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and not frozen(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not frozen(request, obj)


def selection_table(selection: Mapping[str, Any]) -> SafeString | str:
    """A study's selection summary (rule, split, seed, difficult policy and every count) as a table."""
    if not selection:
        return "— (the bundle did not say how its questions were selected)"
    facts = [
        ("rule", selection.get("rule_text") or selection.get("rule", "")),
        ("split", selection.get("split", "")),
        ("seed", selection.get("seed", "")),
        ("difficult objects", selection.get("difficult", "")),
    ]
    facts += [(label, selection[key]) for key, label in SELECTION_COUNT_LABELS if key in selection]
    rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", facts)
    return format_html("<table>{}</table>", rows)


def posteriors_table(prediction_set: Sequence[str], posteriors: Mapping[str, float]) -> SafeString | str:
    """The prediction set, then every class's posterior from the highest down, the set's in bold."""
    if not posteriors and not prediction_set:
        return "— (not in the bundle)"
    ranked = sorted(posteriors.items(), key=lambda item: -item[1])
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td></tr>",
        (
            (format_html("<b>{}</b>", name) if name in prediction_set else name, f"{value:.4f}")
            for name, value in ranked
        ),
    )
    return format_html("<p>P = {{{}}}</p><table>{}</table>", ", ".join(prediction_set), rows)


def explanation_figures(question: Question | ExtraQuestion) -> SafeString:
    """A thumbnail of the question's explanation in each of its study's conditions, captioned by key."""
    if question.pk is None:
        return mark_safe("—")
    by_condition = {e.condition_id: e.image for e in question.explanations.all()}
    figures = (
        (thumb(by_condition.get(c.pk), f"{c.key} {question.key}"), c.key)
        for c in question.study.conditions.all()
    )
    return format_html_join(
        "",
        '<figure style="display:inline-block;margin:0 8px 0 0">{}<figcaption>{}</figcaption></figure>',
        figures,
    )
