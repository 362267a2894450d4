"""The researcher's side: studies with their conditions and questions, and read-only participants and answers.

A study's structure (classes, conditions and their examples, questions and their explanations) changes
only while it is a draft nobody has taken part in. Once open, a change could hand participants a question
without an explanation; once anyone has answered, it would silently change what their answers mean.
"""

from __future__ import annotations

import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from survey.models import Answer, Condition, ConditionExample, Explanation, Participant, Question, Study
from survey.selectors.studies import (
    participants_abandoned_q,
    studies_condition_counts,
    study_abandon_cutoff,
    study_condition_counts,
    study_has_participants,
)
from survey.services.studies import (
    StudyNotReady,
    question_problems,
    study_close,
    study_open,
    study_readiness_problems,
)


def _thumb(image: FieldFile | None, alt: str) -> SafeString:
    if not image or not image.name:
        return mark_safe('<strong style="color:#ba2121">missing</strong>')
    return format_html('<img src="{}" alt="{}" style="max-height:80px;max-width:160px">', image.url, alt)


def _study_of(obj: Model | None) -> Study | None:
    return obj if obj is None or isinstance(obj, Study) else obj.study  # a condition's or a question's


def _frozen(request: HttpRequest, obj: Model | None) -> bool:
    """Whether obj's study is past editing; asked once per study and request, of the saved study.

    The saved study, not obj: a form that opens the study changes obj.status before the inlines are
    saved, and those inlines were offered (and must be saved) as the draft's.
    """
    study = _study_of(obj)
    if study is None or study.pk is None:
        return False
    known = request.__dict__.setdefault("_survey_frozen", {})
    if study.pk not in known:
        known[study.pk] = not _editable_studies().filter(pk=study.pk).exists()
    return known[study.pk]


def _editable_studies() -> QuerySet[Study]:
    return Study.objects.filter(status=Study.Status.DRAFT, participants=None)


class FrozenStructureInline(admin.TabularInline):
    """Rows of a study's structure: editable in a draft nobody took part in, otherwise only shown."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_add_permission(request, obj) and not _frozen(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and not _frozen(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not _frozen(request, obj)


# Studies


def _urls_assume_https(field: models.Field, **kwargs: object) -> forms.Field | None:
    # Django 6 makes https the default for scheme-less URLs; choose it now rather than warn.
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class StudyAdminForm(forms.ModelForm):
    class Meta:
        model = Study
        formfield_callback = _urls_assume_https
        fields = [
            "name", "slug", "status", "description", "completion_code", "completion_redirect_url",
            "assignment_policy", "classes", "abandon_after_minutes",
        ]  # fmt: skip

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("status") == Study.Status.OPEN:
            # The saved conditions and questions, judged with this form's edits; conditions edited inline
            # in the same save are judged again once saved (StudyAdmin.save_related).
            candidate = copy.copy(self.instance)
            for name in ["classes", "completion_code", "completion_redirect_url"]:
                if name in cleaned:
                    setattr(candidate, name, cleaned[name])
            problems = study_readiness_problems(study=candidate)
            if problems:
                self.add_error("status", [f"The study cannot open yet: {problem}." for problem in problems])
        return cleaned


class StudyChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # One grouped query for the page's participant counts, instead of one per study.
        counts = studies_condition_counts(studies=self.result_list)
        for study in self.result_list:
            study.condition_counts = counts[study.pk]


class ConditionInline(FrozenStructureInline):
    model = Condition
    fields = ["order", "key", "name", "intro"]
    show_change_link = True  # examples are edited on the condition's own page


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    form = StudyAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "slug", "status", "question_count", "participant_summary", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]
    inlines = [ConditionInline]
    actions = ["open_studies", "close_studies"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "description"]}),
        ("Participants", {"fields": ["participants_by_condition", "analysis_links"]}),
        ("Prolific", {"fields": ["completion_code", "completion_redirect_url"]}),
        ("Design", {"fields": ["assignment_policy", "classes", "abandon_after_minutes", "created_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Study]:
        return super().get_queryset(request).annotate(n_questions=Count("questions"))

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return StudyChangeList

    def get_readonly_fields(self, request: HttpRequest, obj: Study | None = None) -> list[str]:
        # The slug is in participants' links: it stays put once anyone has used one.
        fixed = ["slug"] if obj is not None and study_has_participants(study=obj) else []
        structure = ["classes"] if _frozen(request, obj) else []
        return [*fixed, *structure, "participants_by_condition", "analysis_links", "created_at"]

    def save_model(self, request: HttpRequest, obj: Study, form: forms.ModelForm, change: bool) -> None:
        if obj.status == Study.Status.OPEN and "status" in form.changed_data:
            # Saved as it was; save_related opens it once the conditions edited with it are saved too.
            obj.status = form.initial.get("status", Study.Status.DRAFT)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        study = form.instance
        if form.cleaned_data.get("status") != Study.Status.OPEN or study.status == Study.Status.OPEN:
            return
        try:
            study_open(study=study)
        except StudyNotReady as exc:
            state = study.get_status_display().lower()
            message = f"{study.slug} was saved but stays {state}: it cannot open yet: {exc}."
            self.message_user(request, message, messages.ERROR)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Study | None = None) -> dict:
        return {} if obj else {"slug": ["name"]}

    @admin.display(description="questions", ordering="n_questions")
    def question_count(self, study: Study) -> int:
        return study.n_questions

    @admin.display(description="participants (started / completed / abandoned)")
    def participant_summary(self, study: Study) -> SafeString:
        counts = getattr(study, "condition_counts", None)
        if counts is None:  # shown outside the list, which counts its whole page at once
            counts = study_condition_counts(study=study)
        rows = ((key, c["started"], c["completed"], c["abandoned"]) for key, c in counts.items())
        return format_html_join(mark_safe("<br>"), "{}: {} / {} / {}", rows)

    @admin.display(description="participants by condition")
    def participants_by_condition(self, study: Study) -> SafeString | str:
        if study.pk is None:
            return "—"
        cells = "<td>{}</td>" * 5
        rows = format_html_join(
            "",
            f"<tr>{cells}</tr>",
            ((key, *c.values()) for key, c in study_condition_counts(study=study).items()),
        )
        heads = "".join(
            f"<th>{h}</th>" for h in ["Condition", "Started", "Completed", "Abandoned", "In progress"]
        )
        return format_html(
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", SafeString(heads), rows
        )

    @admin.display(description="analysis")
    def analysis_links(self, study: Study) -> SafeString | str:
        links = []
        for name, label in [
            ("analysis-study-results", "Results"),
            ("analysis-study-responses", "Responses (CSV)"),
        ]:
            try:
                links.append((reverse(name, kwargs={"slug": study.slug}), label))
            except NoReverseMatch:  # the analysis app may not provide the page yet
                continue
        if study.pk is None or not links:
            return "—"
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.action(description="Open study")
    def open_studies(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            try:
                study_open(study=study)
            except StudyNotReady as exc:
                self.message_user(request, f"{study.slug} cannot open: {exc}.", messages.ERROR)
            else:
                self.message_user(request, f"{study.slug} is open.", messages.SUCCESS)

    @admin.action(description="Close study")
    def close_studies(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            study_close(study=study)
            self.message_user(request, f"{study.slug} is closed.", messages.SUCCESS)

    def get_deleted_objects(self, objs: QuerySet[Study] | list[Study], request: HttpRequest) -> tuple:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        taken = [study for study in objs if study_has_participants(study=study)]
        if taken:
            # One plain line per study instead of Django's list of every protected row and permission.
            perms_needed = set()
            protected = [
                f"{study.slug} has {study.participants.count()} participants, whose answers would be lost. "
                "Close the study instead."
                for study in taken
            ]
        return deleted, counts, perms_needed, protected


class ConditionExampleInline(FrozenStructureInline):
    model = ConditionExample
    fields = ["order", "image", "preview", "caption"]
    readonly_fields = ["preview"]

    @admin.display(description="preview")
    def preview(self, example: ConditionExample) -> SafeString:
        return _thumb(example.image, example.caption or "example")


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "study", "order"]
    list_filter = ["study"]
    list_select_related = ["study"]
    inlines = [ConditionExampleInline]

    def has_change_permission(self, request: HttpRequest, obj: Condition | None = None) -> bool:
        return super().has_change_permission(request, obj) and not _frozen(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Condition | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not _frozen(request, obj)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object) -> forms.Field:
        if db_field.name == "study":
            kwargs["queryset"] = _editable_studies()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# Questions


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["study", "key", "order", "image", "labels", "prediction", "model_correct", "options"]

    def clean(self) -> dict:
        cleaned = super().clean()
        study, options, labels = cleaned.get("study"), cleaned.get("options"), cleaned.get("labels")
        if study is None or not isinstance(options, list) or not isinstance(labels, list):
            if options is not None and not isinstance(options, list):
                self.add_error("options", "Give the options as a JSON list of class names.")
            if labels is not None and not isinstance(labels, list):
                self.add_error("labels", "Give the labels as a JSON list of class names.")
            return cleaned
        problems = question_problems(
            where=f"question {cleaned.get('key', '')}",
            options=options,
            labels=labels,
            prediction=cleaned.get("prediction", ""),
            model_correct=cleaned.get("model_correct"),
            classes=study.classes,
        )
        if problems:
            raise ValidationError(problems)
        return cleaned


class ExplanationFormSet(BaseInlineFormSet):
    """Offers the conditions of the question's own study only (all studies' until one is chosen)."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "condition" not in form.fields:
            return
        conditions = Condition.objects.select_related("study")
        if self.instance.study_id:
            conditions = conditions.filter(study_id=self.instance.study_id)
        form.fields["condition"].queryset = conditions
        form.fields["condition"].label_from_instance = lambda c: f"{c.study.slug} · {c.key}"


class ExplanationInline(FrozenStructureInline):
    model = Explanation
    formset = ExplanationFormSet
    fields = ["condition", "image", "preview"]
    readonly_fields = ["preview"]

    @admin.display(description="preview")
    def preview(self, explanation: Explanation) -> SafeString:
        return _thumb(explanation.image, "explanation") if explanation.pk else mark_safe("")


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
        "explanation_previews",
    ]  # fmt: skip
    readonly_fields = ["input_preview", "explanation_previews"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).prefetch_related("explanations", "study__conditions")

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_change_permission(request, obj) and not _frozen(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not _frozen(request, obj)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object) -> forms.Field:
        if db_field.name == "study":
            kwargs["queryset"] = _editable_studies()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="input image")
    def input_preview(self, question: Question) -> SafeString:
        return _thumb(question.image, f"input {question.key}") if question.pk else mark_safe("—")

    @admin.display(description="explanations")
    def explanation_previews(self, question: Question) -> SafeString:
        if question.pk is None:
            return mark_safe("—")
        by_condition = {e.condition_id: e.image for e in question.explanations.all()}
        figures = (
            (_thumb(by_condition.get(c.pk), f"{c.key} {question.key}"), c.key)
            for c in question.study.conditions.all()
        )
        return format_html_join(
            "",
            '<figure style="display:inline-block;margin:0 8px 0 0">{}<figcaption>{}</figcaption></figure>',
            figures,
        )


# Participants and answers: what participants left behind is evidence, so it is only ever shown.


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ConditionFilter(admin.SimpleListFilter):
    """Conditions named with their study, narrowed to the study chosen in the study filter."""

    title = "condition"
    parameter_name = "condition"
    condition_field = "condition"
    study_parameter = "study__id__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[int, str]]:
        conditions = Condition.objects.select_related("study")
        study_id = request.GET.get(self.study_parameter, "")
        if study_id.isdigit():
            conditions = conditions.filter(study_id=study_id)
        return [(c.pk, f"{c.study.slug} · {c.key}") for c in conditions]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or ""
        return queryset.filter(**{f"{self.condition_field}_id": value}) if value.isdigit() else queryset


class AnswerConditionFilter(ConditionFilter):
    condition_field = "participant__condition"
    study_parameter = "participant__study__id__exact"


class ParticipantStatusFilter(admin.SimpleListFilter):
    """Status as researchers mean it: in-progress participants idle too long count as abandoned."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(value, label) for value, label in Participant.Status.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Participant]) -> QuerySet[Participant]:
        abandoned = participants_abandoned_q()
        if self.value() == Participant.Status.ABANDONED:
            return queryset.filter(abandoned)
        if self.value() == Participant.Status.IN_PROGRESS:
            return queryset.filter(status=Participant.Status.IN_PROGRESS).exclude(abandoned)
        return queryset.filter(status=self.value()) if self.value() else queryset


class AnswerInline(ReadOnlyMixin, admin.TabularInline):
    model = Answer
    fields = ["position", "question", "option", "correct", "response_ms", "answered_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        # Each row shows its answer's question and, as the row's title, str(answer): its participant.
        return super().get_queryset(request).select_related("question", "participant")

    @admin.display(description="correct", boolean=True)
    def correct(self, answer: Answer) -> bool:
        return answer.is_correct


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "short_token",
        "study",
        "condition",
        "status_shown",
        "progress",
        "started_at",
        "last_seen_at",
    ]
    list_filter = ["study", ConditionFilter, ParticipantStatusFilter]
    search_fields = ["token"]
    list_select_related = ["study", "condition"]
    inlines = [AnswerInline]
    fields = [
        "token", "study", "condition", "status_shown", "progress", "seed", "question_order", "started_at",
        "intro_seen_at", "last_seen_at", "completed_at",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Participant]:
        participants = super().get_queryset(request).select_related("study", "condition")
        return participants.annotate(n_answers=Count("answers"))

    @admin.display(description="token", ordering="token")
    def short_token(self, participant: Participant) -> str:
        return f"{participant.token[:10]}…"

    @admin.display(description="status", ordering="status")
    def status_shown(self, participant: Participant) -> str:
        idle = participant.last_seen_at < study_abandon_cutoff(study=participant.study)
        if participant.status == Participant.Status.IN_PROGRESS and idle:
            return "Abandoned (inactive)"
        return participant.get_status_display()

    @admin.display(description="progress", ordering="n_answers")
    def progress(self, participant: Participant) -> str:
        return f"{participant.n_answers}/{len(participant.question_order)}"


@admin.register(Answer)
class AnswerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "participant_token",
        "condition",
        "position",
        "question",
        "option",
        "correct",
        "response_ms",
    ]
    list_filter = ["participant__study", AnswerConditionFilter, "question__model_correct"]
    search_fields = ["participant__token", "question__key"]
    list_select_related = ["participant__condition", "question"]

    @admin.display(description="participant", ordering="participant__token")
    def participant_token(self, answer: Answer) -> str:
        return f"{answer.participant.token[:10]}…"

    @admin.display(description="condition", ordering="participant__condition__key")
    def condition(self, answer: Answer) -> str:
        return answer.participant.condition.key

    @admin.display(description="correct", boolean=True)
    def correct(self, answer: Answer) -> bool:
        return answer.is_correct
