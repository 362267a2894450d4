"""Practice questions and attention checks: they come with the study's bundle, and are shown here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from survey.admin.common import explanation_figures, thumb
from survey.models import ExtraQuestion


@admin.register(ExtraQuestion)
class ExtraQuestionAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "study",
        "role",
        "kind",
        "answer",
        "position",
        "input_preview",
        "explanation_previews",
    ]
    list_filter = ["study", "role", "kind"]
    search_fields = ["key"]
    list_select_related = ["study"]
    fields = [
        "study", "role", "kind", "key", "input_preview", "labels", "prediction", "options", "answer",
        "instruction", "position", "order", "explanation_previews",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExtraQuestion]:
        return super().get_queryset(request).prefetch_related("explanations", "study__conditions")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # they come with the bundle, which checks them against the study (import_study)

    def has_change_permission(self, request: HttpRequest, obj: ExtraQuestion | None = None) -> bool:
        return False

    @admin.display(description="input image")
    def input_preview(self, question: ExtraQuestion) -> SafeString:
        return thumb(question.image, f"input {question.key}")

    @admin.display(description="explanations")
    def explanation_previews(self, question: ExtraQuestion) -> SafeString:
        return explanation_figures(question)
