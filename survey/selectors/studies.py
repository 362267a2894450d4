"""Reads about studies for researchers: lookups and who took part in which condition."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypedDict

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from survey.models import Condition, Participant, Study


class ConditionCounts(TypedDict):
    started: int
    completed: int
    abandoned: int
    in_progress: int


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


def study_condition_counts(*, study: Study, now: datetime | None = None) -> dict[str, ConditionCounts]:
    """Started, completed, abandoned (stale ones included) and still in progress, per condition key."""
    return studies_condition_counts(studies=[study], now=now).get(study.pk, {})


def studies_condition_counts(
    *, studies: Iterable[Study], now: datetime | None = None
) -> dict[int, dict[str, ConditionCounts]]:
    """study_condition_counts for many studies in one query (a page of the admin's study list)."""
    studies = [study for study in studies if study.pk is not None]
    stale = _stale_q(studies=studies, now=now or timezone.now())
    in_progress = Q(participants__status=Participant.Status.IN_PROGRESS)
    rows = Condition.objects.filter(study__in=studies).annotate(
        n_started=Count("participants"),
        n_completed=Count("participants", filter=Q(participants__status=Participant.Status.COMPLETED)),
        n_abandoned=Count(
            "participants",
            filter=Q(participants__status=Participant.Status.ABANDONED) | (in_progress & stale),
        ),
        n_in_progress=Count("participants", filter=in_progress & ~stale),
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
