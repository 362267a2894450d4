"""Questions with their answer key, input image and one explanation per condition."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from survey.admin.common import (
    FrozenStructureInline,
    editable_studies,
    explanation_figures,
    frozen,
    image_sizes_record,
    posteriors_table,
    thumb,
)
from survey.admin.forms import ExplanationFormSet, QuestionAdminForm
from survey.models import Explanation, Question


class ExplanationInline(FrozenStructureInline):
    model = Explanation
    formset = ExplanationFormSet
    fields = ["condition", "image", "preview"]
    readonly_fields = ["preview"]

    @admin.display(description="preview")
    def preview(self, explanation: Explanation) -> SafeString:
        return thumb(explanation.image, "explanation") if explanation.pk else mark_safe("")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionAdminForm
    list_display = ["key", "study", "prediction", "model_correct", "input_preview", "explanation_previews"]
    list_filter = ["study", "model_correct"]
    search_fields = ["key", "prediction"]
    list_select_related = ["study"]
    inlines = [ExplanationInline]
    fields = [
        "study", "key", "order", "image", "input_preview", "labels", "prediction", "model_correct", "options",
        "audit", "explanation_previews",
    ]  # fmt: skip
    readonly_fields = ["input_preview", "explanation_previews", "audit"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).prefetch_related("explanations", "study__conditions")

    def save_model(self, request: HttpRequest, obj: Question, form: forms.ModelForm, change: bool) -> None:
        if "image" in form.changed_data:
            image_sizes_record(obj)
        super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        changed = {f.instance.pk for f in formset.forms if "image" in f.changed_data}
        for explanation in formset.save(commit=False):
            if explanation.pk is None or explanation.pk in changed:
                image_sizes_record(explanation)
            explanation.save()
        for explanation in formset.deleted_objects:
            explanation.delete()

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_change_permission(request, obj) and not frozen(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not frozen(request, obj)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object) -> forms.Field:
        if db_field.name == "study":
            kwargs["queryset"] = editable_studies()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="prediction set and posteriors")
    def audit(self, question: Question) -> SafeString | str:
        return posteriors_table(question.prediction_set, question.posteriors)

    @admin.display(description="input image")
    def input_preview(self, question: Question) -> SafeString:
        return thumb(question.image, f"input {question.key}") if question.pk else mark_safe("—")

    @admin.display(description="explanations")
    def explanation_previews(self, question: Question) -> SafeString:
        return explanation_figures(question)
