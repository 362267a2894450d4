"""What the study, condition and question admins share: the frozen-structure rule and image previews."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from survey.models import Study


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
    return Study.objects.filter(status=Study.Status.DRAFT, participants=None)


class FrozenStructureInline(admin.TabularInline):
    """Rows of a study's structure: editable in a draft nobody took part in, otherwise only shown."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_add_permission(request, obj) and not frozen(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and not frozen(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not frozen(request, obj)
