"""Studies: their design, opening and closing, and who took part, with the conditions edited inline."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from survey.admin.common import FrozenStructureInline, frozen, preview_links, selection_table
from survey.admin.forms import StudyAdminForm
from survey.admin.imports import import_urls
from survey.admin.launch import launch_urls
from survey.models import Condition, Study
from survey.selectors.studies import (
    ConditionCounts,
    studies_condition_counts,
    study_condition_counts,
    study_exclusions,
    study_has_participants,
    study_median_minutes,
)
from survey.services.studies import StudyNotPilot, StudyNotReady, study_close, study_open, study_pilot

# The statuses the admin reaches through a service, which checks the study first.
CHECKED_STATUSES = {Study.Status.OPEN: study_open, Study.Status.PILOT: study_pilot}


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
    actions = ["pilot_studies", "open_studies", "close_studies"]
    design = [
        "assignment_policy", "classes", "class_names", "abandon_after_minutes", "expected_minutes",
        "time_taken", "attention_allowance", "created_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "description", "previews"]}),
        ("Participants", {"fields": ["participants_by_condition", "pilot_by_condition", "exclusions"]}),
        ("Analysis", {"fields": ["analysis_links"]}),
        ("Prolific", {"fields": ["completion_code", "unique_completion_codes", "completion_redirect_url"]}),
        ("Design", {"fields": design}),
        ("Question selection", {"fields": ["selection_summary"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Study]:
        return super().get_queryset(request).annotate(n_questions=Count("questions"))

    def get_urls(self) -> list:
        # Before the admin's own: its "<path:object_id>/" would take "import/" for a study's id.
        return [*import_urls(self), *launch_urls(self), *super().get_urls()]

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return StudyChangeList

    def get_readonly_fields(self, request: HttpRequest, obj: Study | None = None) -> list[str]:
        # The slug is in participants' links: it stays put once anyone has used one.
        fixed = ["slug"] if obj is not None and study_has_participants(study=obj) else []
        # What participants' answers were judged by stays put once real ones have started.
        structure = ["classes", "attention_allowance"] if frozen(request, obj) else []
        shown = [
            "previews", "participants_by_condition", "pilot_by_condition", "exclusions", "analysis_links",
            "created_at", "selection_summary", "time_taken",
        ]  # fmt: skip
        return [*fixed, *structure, *shown]

    def save_model(self, request: HttpRequest, obj: Study, form: forms.ModelForm, change: bool) -> None:
        if obj.status in CHECKED_STATUSES and "status" in form.changed_data:
            # Saved as it was; save_related opens (or pilots) it once the conditions edited with it are saved.
            obj.status = form.initial.get("status", Study.Status.DRAFT)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        study, wanted = form.instance, form.cleaned_data.get("status")
        if wanted not in CHECKED_STATUSES or study.status == wanted:
            return
        try:
            CHECKED_STATUSES[wanted](study=study)
        except (StudyNotReady, StudyNotPilot) as exc:
            state = study.get_status_display().lower()
            verb = "open" if wanted == Study.Status.OPEN else "start its pilot"
            message = f"{study.slug} was saved but stays {state}: it cannot {verb} yet: {exc}."
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
        return "—" if study.pk is None else _counts_table(study_condition_counts(study=study))

    @admin.display(description="pilot participants (kept apart)")
    def pilot_by_condition(self, study: Study) -> SafeString | str:
        if study.pk is None or not study.participants.filter(is_pilot=True).exists():
            return "— (none)"
        return _counts_table(study_condition_counts(study=study, pilot=True))

    @admin.display(description="left out of the analysis by default")
    def exclusions(self, study: Study) -> SafeString | str:
        if study.pk is None:
            return "—"
        left_out = study_exclusions(study=study)
        return format_html(
            "{} pilot participant{}; {} failed more than {} attention check{}",
            left_out["pilot"],
            pluralize(left_out["pilot"]),
            left_out["attention_failed"],
            study.attention_allowance,
            pluralize(study.attention_allowance),
        )

    @admin.display(description="preview as a participant")
    def previews(self, study: Study) -> SafeString | str:
        return preview_links(study)

    @admin.display(description="median time of completed participants")
    def time_taken(self, study: Study) -> str:
        median = None if study.pk is None else study_median_minutes(study=study)
        return "— (too few have completed)" if median is None else f"{median:.1f} minutes"

    @admin.display(description="how the questions were selected")
    def selection_summary(self, study: Study) -> SafeString | str:
        return selection_table(study.selection)

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

    @admin.action(description="Start a pilot (before opening)")
    def pilot_studies(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            try:
                study_pilot(study=study)
            except (StudyNotReady, StudyNotPilot) as exc:
                self.message_user(request, f"{study.slug} cannot start a pilot: {exc}.", messages.ERROR)
            else:
                self.message_user(request, f"{study.slug} is in its pilot.", messages.SUCCESS)

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


def _counts_table(counts: dict[str, ConditionCounts]) -> SafeString:
    cells = "<td>{}</td>" * 5
    rows = format_html_join("", f"<tr>{cells}</tr>", ((key, *c.values()) for key, c in counts.items()))
    heads = "".join(
        f"<th>{h}</th>" for h in ["Condition", "Started", "Completed", "Abandoned", "In progress"]
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", SafeString(heads), rows)
