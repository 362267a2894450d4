"""Gather a study's responses from the database (or a responses file) and hand them to the analysis."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.utils import timezone

from analysis.responses import participants_from_responses, responses_frame, responses_read, responses_write
from analysis.results import Analysis, AnalysisOptions, results_compute
from survey.models import Answer, Participant, Study


def study_responses(*, study: Study) -> pd.DataFrame:
    """Every answer of the study in the long format, participant by participant in order of arrival."""
    rows = (
        Answer.objects.filter(participant__study=study)
        .order_by("participant__started_at", "participant_id", "position")
        .values_list(
            "participant__token",
            "participant__condition__key",
            "question__key",
            "question__model_correct",
            "question__prediction",
            "option",
            "position",
            "response_ms",
        )
    )
    # is_correct as Answer.is_correct defines it, computed here to spare one query per answer.
    return responses_frame(
        (token, condition, question, model_correct, prediction, option, option == prediction, position, ms)
        for token, condition, question, model_correct, prediction, option, position, ms in rows
    )


def study_participants(*, study: Study, now: datetime | None = None) -> pd.DataFrame:
    """participant, condition, status; an in-progress participant gone quiet too long counts as abandoned."""
    minutes = study.abandon_after_minutes or settings.SURVEY_ABANDON_AFTER_MINUTES
    cutoff = (now or timezone.now()) - timedelta(minutes=minutes)
    rows = Participant.objects.filter(study=study).values_list(
        "token", "condition__key", "status", "last_seen_at"
    )
    return pd.DataFrame(
        [(token, condition, _status(status, seen, cutoff)) for token, condition, status, seen in rows],
        columns=["participant", "condition", "status"],
    ).astype("str")


def _status(status: str, last_seen_at: datetime, cutoff: datetime) -> str:
    if status == Participant.Status.IN_PROGRESS and last_seen_at < cutoff:
        return Participant.Status.ABANDONED.value
    return str(status)


def study_results(*, study: Study, options: AnalysisOptions, now: datetime | None = None) -> Analysis:
    names = dict(study.conditions.values_list("key", "name"))
    return results_compute(
        responses=study_responses(study=study),
        participants=study_participants(study=study, now=now),
        names=names,
        question_order=list(study.questions.values_list("key", flat=True)),
        options=options,
    )


def file_results(*, path: str | Path, options: AnalysisOptions) -> Analysis:
    """Results from a responses file; it names no display names, so conditions go by their keys."""
    responses = responses_read(path)
    keys = list(dict.fromkeys(responses["condition"]))
    return results_compute(
        responses=responses,
        participants=participants_from_responses(responses),
        names={key: key for key in keys},
        question_order=sorted(set(responses["question"])),
        options=options,
    )


def responses_export(*, study: Study, path: str | Path) -> int:
    """Write the study's responses file; the old file stays whole until the new one is complete."""
    responses = study_responses(study=study)
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            written = responses_write(responses, stream)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
