"""Reads about studies for researchers: lookups and who took part in which condition."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from survey.constants import TIME_ESTIMATE_MIN_COMPLETED
from survey.models import Condition, ExtraQuestion, Participant, Study


class ConditionCounts(TypedDict):
    started: int
    completed: int
    abandoned: int
    in_progress: int


MEDIAN_OF_LATEST = 1000


@dataclass(frozen=True)
class TimeEstimate:
    minutes: int
    measured: bool  # from completed participants' median, not the study's setting


class Exclusions(TypedDict):
    pilot: int  # participants of the pilot
    attention_failed: int  # real participants who failed more attention checks than the study allows


def study_by_slug(*, slug: str) -> Study | None:
    return Study.objects.filter(slug=slug).first()


def study_condition_names(*, study: Study) -> dict[str, str]:
    """Condition key -> display name, in the study's order."""
    return dict(study.conditions.order_by("order", "id").values_list("key", "name"))


def study_has_participants(*, study: Study) -> bool:
    return study.pk is not None and study.participants.exists()


def study_abandon_cutoff(*, study: Study, now: datetime | None = None) -> datetime:
    """In-progress participants last seen before this moment count as abandoned."""
    minutes = study.abandon_after_minutes or settings.SURVEY_ABANDON_AFTER_MINUTES
    return (now or timezone.now()) - timedelta(minutes=minutes)


def study_condition_counts(
    *, study: Study, now: datetime | None = None, pilot: bool = False
) -> dict[str, ConditionCounts]:
    """Started, completed, abandoned (stale ones included) and still in progress, per condition key.

    Real participants only; with ``pilot``, the pilot's participants only (they are always kept apart).
    """
    return studies_condition_counts(studies=[study], now=now, pilot=pilot).get(study.pk, {})


def studies_condition_counts(
    *, studies: Iterable[Study], now: datetime | None = None, pilot: bool = False
) -> dict[int, dict[str, ConditionCounts]]:
    """study_condition_counts for many studies in one query (a page of the admin's study list)."""
    studies = [study for study in studies if study.pk is not None]
    stale = _stale_q(studies=studies, now=now or timezone.now())
    counted = Q(participants__is_pilot=pilot)
    in_progress = Q(participants__status=Participant.Status.IN_PROGRESS)
    rows = Condition.objects.filter(study__in=studies).annotate(
        n_started=Count("participants", filter=counted),
        n_completed=Count(
            "participants", filter=counted & Q(participants__status=Participant.Status.COMPLETED)
        ),
        n_abandoned=Count(
            "participants",
            filter=counted & (Q(participants__status=Participant.Status.ABANDONED) | (in_progress & stale)),
        ),
        n_in_progress=Count("participants", filter=counted & in_progress & ~stale),
    )
    counts: dict[int, dict[str, ConditionCounts]] = {study.pk: {} for study in studies}
    for row in rows:
        counts[row.study_id][row.key] = ConditionCounts(
            started=row.n_started,
            completed=row.n_completed,
            abandoned=row.n_abandoned,
            in_progress=row.n_in_progress,
        )
    return counts


def _stale_q(*, studies: list[Study], now: datetime) -> Q:
    # Seen before their study's cutoff; studies sharing a cutoff share a clause, so there are few.
    by_cutoff: dict[datetime, list[int]] = defaultdict(list)
    for study in studies:
        by_cutoff[study_abandon_cutoff(study=study, now=now)].append(study.pk)
    stale = Q(pk__in=[])
    for cutoff, pks in by_cutoff.items():
        stale |= Q(study_id__in=pks, participants__last_seen_at__lt=cutoff)
    return stale


def participants_abandoned_q(*, now: datetime | None = None) -> Q:
    """Matches participants who abandoned: marked so, or in progress but idle past their study's limit."""
    now = now or timezone.now()
    default_cutoff = now - timedelta(minutes=settings.SURVEY_ABANDON_AFTER_MINUTES)
    stale = Q(study__abandon_after_minutes__isnull=True, last_seen_at__lt=default_cutoff)
    # Few studies set their own limit; one clause each keeps the query portable across databases.
    for study in Study.objects.exclude(abandon_after_minutes=None).only("pk", "abandon_after_minutes"):
        stale |= Q(study_id=study.pk, last_seen_at__lt=study_abandon_cutoff(study=study, now=now))
    return Q(status=Participant.Status.ABANDONED) | (Q(status=Participant.Status.IN_PROGRESS) & stale)


def study_time_estimate(*, study: Study) -> TimeEstimate | None:
    """How long the study takes: the study's own setting, else the median of completed participants once
    there are enough of them (TIME_ESTIMATE_MIN_COMPLETED), rounded up to whole minutes."""
    if study.expected_minutes:
        return TimeEstimate(minutes=study.expected_minutes, measured=False)
    median = study_median_minutes(study=study)
    return None if median is None else TimeEstimate(minutes=max(1, math.ceil(median)), measured=True)


def study_median_minutes(*, study: Study) -> float | None:
    """The median time completed participants took, in minutes; None while fewer than enough completed."""
    completed = Participant.objects.filter(study=study, status=Participant.Status.COMPLETED)
    # The latest ones are enough for a median, and keep the landing page's query small.
    spans = completed.order_by("-completed_at").values_list("started_at", "completed_at")[:MEDIAN_OF_LATEST]
    minutes = [(end - start).total_seconds() / 60 for start, end in spans if end is not None]
    return statistics.median(minutes) if len(minutes) >= TIME_ESTIMATE_MIN_COMPLETED else None


def participants_analysed(
    *, study: Study, include_pilot: bool = False, include_attention_failed: bool = False
) -> QuerySet[Participant]:
    """The participants an analysis counts by default: not the pilot's, and not those who failed more
    attention checks than the study allows. Previews are never participants at all."""
    participants = Participant.objects.filter(study=study)
    if not include_pilot:
        participants = participants.filter(is_pilot=False)
    if not include_attention_failed:
        participants = participants.filter(attention_failed=False)
    return participants


def study_exclusions(*, study: Study) -> Exclusions:
    """How many participants the default analysis leaves out, and why (one query)."""
    counts = Participant.objects.filter(study=study).aggregate(
        pilot=Count("pk", filter=Q(is_pilot=True)),
        attention_failed=Count("pk", filter=Q(is_pilot=False, attention_failed=True)),
    )
    return Exclusions(pilot=counts["pilot"], attention_failed=counts["attention_failed"])


def study_has_attention_checks(*, study: Study) -> bool:
    """Whether the study places any attention check among its questions."""
    return ExtraQuestion.objects.filter(study=study, role=ExtraQuestion.Role.ATTENTION).exists()
