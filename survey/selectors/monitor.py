"""What the study page's live monitor shows: who started, is taking part, finished or left, per condition."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import TypedDict

from django.db.models import Max
from django.utils import timezone

from survey.models import Participant, Study
from survey.selectors.studies import study_condition_counts, study_condition_names


class ConditionRow(TypedDict):
    key: str
    name: str
    started: int
    in_progress: int
    completed: int
    abandoned: int
    completion_rate: float | None  # completed of started, None before anyone started


class StudyMonitor(TypedDict):
    slug: str
    status: str
    conditions: list[ConditionRow]
    total: ConditionRow
    median_duration_seconds: float | None  # of completed participants, from start to completion
    completed_durations: int  # how many durations the median is of
    last_activity: str | None  # ISO 8601: when a participant was last seen
    as_of: str  # ISO 8601: when these numbers were read


def study_monitor(*, study: Study, now: datetime | None = None) -> StudyMonitor:
    """Counts per condition (idle participants count as abandoned), completion, durations, last activity.

    Every value is plain JSON, so the admin's monitor endpoint returns it as it is.
    """
    now = now or timezone.now()
    counts = study_condition_counts(study=study, now=now)
    names = study_condition_names(study=study)
    rows = [_row(key, names.get(key, key), counts[key]) for key in names if key in counts]
    durations = _completed_durations(study=study)
    last = Participant.objects.filter(study=study).aggregate(last=Max("last_seen_at"))["last"]
    return StudyMonitor(
        slug=study.slug,
        status=study.status,
        conditions=rows,
        total=_total(rows),
        median_duration_seconds=round(statistics.median(durations), 1) if durations else None,
        completed_durations=len(durations),
        last_activity=last.isoformat() if last else None,
        as_of=now.isoformat(),
    )


def _row(key: str, name: str, counts: dict[str, int]) -> ConditionRow:
    started = counts["started"]
    return ConditionRow(
        key=key,
        name=name,
        started=started,
        in_progress=counts["in_progress"],
        completed=counts["completed"],
        abandoned=counts["abandoned"],
        completion_rate=round(counts["completed"] / started, 4) if started else None,
    )


def _total(rows: list[ConditionRow]) -> ConditionRow:
    fields = ["started", "in_progress", "completed", "abandoned"]
    sums = {field: sum(row[field] for row in rows) for field in fields}
    return _row("all", "All conditions", sums)


def _completed_durations(*, study: Study) -> list[float]:
    finished = Participant.objects.filter(
        study=study, status=Participant.Status.COMPLETED, completed_at__isnull=False
    ).values_list("started_at", "completed_at")
    return [(completed - started).total_seconds() for started, completed in finished]
