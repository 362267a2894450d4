"""Participants and answers: what participants left behind is evidence, so it is only ever shown."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.timezone import localtime

from survey.admin.formatting import duration_text
from survey.models import Answer, ComprehensionAnswer, Condition, ExtraAnswer, Participant
from survey.selectors.studies import participants_abandoned_q, study_abandon_cutoff


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
    fields = ["position", "question", "option", "correct", "response_ms", "client_response_ms", "answered_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        # Each row shows its answer's question and, as the row's title, str(answer): its participant.
        return super().get_queryset(request).select_related("question", "participant")

    @admin.display(description="correct", boolean=True)
    def correct(self, answer: Answer) -> bool:
        return answer.is_correct


class ExtraAnswerInline(ReadOnlyMixin, admin.TabularInline):
    """Practice answers and attention checks: shown apart, since they are never the study's answers."""

    model = ExtraAnswer
    verbose_name_plural = "practice answers and attention checks"
    fields = ["question", "role", "option", "correct", "response_ms", "client_response_ms", "answered_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExtraAnswer]:
        return super().get_queryset(request).select_related("question", "participant")

    @admin.display(description="kind")
    def role(self, answer: ExtraAnswer) -> str:
        return answer.question.get_role_display()


class ComprehensionAnswerInline(ReadOnlyMixin, admin.TabularInline):
    model = ComprehensionAnswer
    verbose_name_plural = "comprehension check (every attempt)"
    fields = ["number", "prompt", "choice", "correct", "answered_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ComprehensionAnswer]:
        return super().get_queryset(request).select_related("participant")


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # Narrow columns, so that progress, duration and status fit a 1280 px screen without scrolling.
    list_display = [
        "short_token",
        "study_slug",
        "condition_key",
        "status_shown",
        "progress",
        "duration",
        "last_seen",
    ]
    list_filter = ["study", ConditionFilter, ParticipantStatusFilter, "is_pilot", "attention_failed"]
    # A unique completion code, as pasted on Prolific, finds its participant when approving submissions.
    search_fields = ["token", "completion_code"]
    list_select_related = ["study", "condition"]
    inlines = [AnswerInline, ExtraAnswerInline, ComprehensionAnswerInline]
    fields = [
        "token", "study", "condition", "status_shown", "progress", "is_pilot", "attention_failures",
        "attention_failed", "completion_code", "seed", "question_order", "attention_slots", "started_at",
        "intro_seen_at", "comprehension_passed_at", "last_seen_at", "completed_at",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="attention checks failed", ordering="attention_failures")
    def attention(self, participant: Participant) -> str:
        mark = " (left out)" if participant.attention_failed else ""
        return f"{participant.attention_failures}{mark}"

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
            shown = "Abandoned (inactive)"
        else:
            shown = participant.get_status_display()
        # In the status column, not columns of their own, so the list still fits 1280 px.
        marks = ["pilot"] * participant.is_pilot + ["failed attention"] * participant.attention_failed
        return " · ".join([shown, *marks])

    @admin.display(description="progress", ordering="n_answers")
    def progress(self, participant: Participant) -> str:
        return f"{participant.n_answers}/{len(participant.question_order)}"

    @admin.display(description="study", ordering="study__slug")
    def study_slug(self, participant: Participant) -> str:
        return participant.study.slug

    @admin.display(description="condition", ordering="condition__key")
    def condition_key(self, participant: Participant) -> str:
        return participant.condition.key

    @admin.display(description="duration")
    def duration(self, participant: Participant) -> str:
        """Start to completion; for anyone else, start to when they were last seen."""
        end = participant.completed_at or participant.last_seen_at
        return duration_text((end - participant.started_at).total_seconds())

    @admin.display(description="last seen", ordering="last_seen_at")
    def last_seen(self, participant: Participant) -> str:
        return date_format(localtime(participant.last_seen_at), "M j, H:i")


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
        "client_response_ms",
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
