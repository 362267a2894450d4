"""Gather a study's responses from the database (or a responses file) and hand them to the analysis."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from analysis import stats
from analysis.exclusions import FLAG_COLUMNS
from analysis.paper import NAMES as PAPER_NAMES
from analysis.paper import paper_scores
from analysis.planning import PlanSettings, SamplePlan, plan_from_scores
from analysis.responses import (
    FILE_DROPOUT_NOTE,
    participant_pseudonym,
    participants_from_responses,
    question_order,
    responses_frame,
    responses_read,
    responses_write,
)
from analysis.results import Analysis, AnalysisError, AnalysisOptions, results_compute
from survey.models import Answer, Participant, Study
from survey.selectors.studies import (
    study_by_slug,
    study_condition_counts,
    study_condition_names,
    study_has_attention_checks,
)

# An export is research data for whoever analyses it; it holds pseudonyms, no credentials.
EXPORT_MODE = 0o644


def study_get(*, slug: str) -> Study:
    """The study to analyse or export; AnalysisError (404) when there is none."""
    study = study_by_slug(slug=slug)
    if study is None:
        raise AnalysisError(f"No study with slug {slug!r}.", status=404)
    return study


def study_responses(*, study: Study) -> pd.DataFrame:
    """Every answer of the study in the long format: condition by condition in the study's order (so a
    file's order of first appearance is the study's), then participant by participant in order of arrival.

    Participants appear as pseudonyms: the token lets whoever holds it answer in their name.
    """
    rows = (
        Answer.objects.filter(participant__study=study)
        .order_by(
            "participant__condition__order",
            "participant__condition_id",
            "participant__started_at",
            "participant_id",
            "position",
        )
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
        (
            _pseudonym(study, token),
            condition,
            question,
            model_correct,
            prediction,
            option,
            option == prediction,
            position,
            ms,
        )
        for token, condition, question, model_correct, prediction, option, position, ms in rows
    )


def study_participants(*, study: Study) -> pd.DataFrame:
    """participant (pseudonym), condition, status as stored, and each of the exclusion flags
    (analysis.exclusions.FLAG_COLUMNS: is_pilot, is_preview, attention_failed) that Participant has.

    The flags are read where the model has a field of that name, so the analysis applies a rule as soon
    as the survey records it; until then the column is absent, and the rule's note says so. Scoring only
    asks who completed; dropout, which must tell stale participants from active ones, comes from
    survey.selectors.studies.study_condition_counts.
    """
    flags = participant_flag_fields()
    if not study_has_attention_checks(study=study):  # nobody could fail one: the rule says so
        flags = [flag for flag in flags if flag != "attention_failed"]
    rows = Participant.objects.filter(study=study).values_list("token", "condition__key", "status", *flags)
    frame = pd.DataFrame(
        [(_pseudonym(study, token), *rest) for token, *rest in rows],
        columns=["participant", "condition", "status", *flags],
    )
    return frame.astype({"participant": "str", "condition": "str", "status": "str"})


def participant_flag_fields() -> list[str]:
    """The exclusion flags Participant has a field for, in FLAG_COLUMNS order."""
    fields = {field.name for field in Participant._meta.get_fields()}
    return [name for name in FLAG_COLUMNS if name in fields]


def study_question_images(*, study: Study) -> dict[str, str]:
    """Question key -> the URL of its input image, for the item analysis's thumbnails."""
    return {question.key: question.image.url for question in study.questions.all() if question.image}


def _pseudonym(study: Study, token: str) -> str:
    return participant_pseudonym(token, salt=study.hash_salt)


def study_results(*, study: Study, options: AnalysisOptions, now: datetime | None = None) -> Analysis:
    return results_compute(
        responses=study_responses(study=study),
        participants=study_participants(study=study),
        names=study_condition_names(study=study),
        question_order=list(study.questions.values_list("key", flat=True)),
        dropout=study_condition_counts(study=study, now=now),
        options=options,
    )


def file_results(*, path: str | Path, options: AnalysisOptions) -> Analysis:
    """Results from a responses file; it names no display names, so conditions go by their keys."""
    responses = responses_read(path)
    participants = participants_from_responses(responses)
    keys = list(dict.fromkeys(responses["condition"]))
    return results_compute(
        responses=responses,
        participants=participants,
        names={key: key for key in keys},
        question_order=question_order(responses),
        dropout=stats.dropout_counts(participants, keys),
        options=options,
        notes=[FILE_DROPOUT_NOTE],
    )


def sample_size_plan_study(
    *, study: Study, settings: PlanSettings, conditions: tuple[str, str] | None = None
) -> SamplePlan:
    """Plan from a study as the pilot: its participants counted as the results count them."""
    analysis = study_results(study=study, options=AnalysisOptions(mixed_model=False))
    return plan_from_scores(analysis.scores, names=analysis.names, settings=settings, conditions=conditions)


def sample_size_plan_file(
    *, path: str | Path, settings: PlanSettings, conditions: tuple[str, str] | None = None
) -> SamplePlan:
    """Plan from a responses file as the pilot."""
    analysis = file_results(path=path, options=AnalysisOptions(mixed_model=False))
    return plan_from_scores(analysis.scores, names=analysis.names, settings=settings, conditions=conditions)


def sample_size_plan_paper(
    *, settings: PlanSettings, conditions: tuple[str, str] | None = None
) -> SamplePlan:
    """Plan from the paper's published per-participant scores as the pilot."""
    return plan_from_scores(paper_scores(), names=PAPER_NAMES, settings=settings, conditions=conditions)


def responses_export(*, study: Study, path: str | Path) -> int:
    """Write the study's responses file; the old file stays whole until the new one is complete."""
    responses = study_responses(study=study)
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            written = responses_write(responses, stream)
            os.fchmod(stream.fileno(), EXPORT_MODE)  # mkstemp makes it 0600, private to its writer
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
