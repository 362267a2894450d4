"""Shared steps for the participant-side tests: start someone, answer for them, move their clock."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from survey.models import Participant, Question, Study
from survey.selectors.participants import participant_current_question_id
from survey.services.participants import AnswerResult, answer_submit, external_id_hashes, participant_start


def start(study: Study, **external_ids: str) -> Participant:
    """Start a participant, with Prolific's raw ids (prolific_pid=..., study_id=..., session_id=...)."""
    return participant_start(study=study, id_hashes=external_id_hashes(study=study, **external_ids))


def current_question(participant: Participant) -> Question:
    question_id = participant_current_question_id(participant)
    assert question_id is not None, "the participant has answered everything"
    return Question.objects.get(pk=question_id)


def answer_current(participant: Participant, *, option: str | None = None) -> AnswerResult:
    """Answer the current question, with the model's prediction unless told otherwise."""
    question = current_question(participant)
    return answer_submit(
        participant=participant, question_id=question.pk, option=option or question.prediction
    )


def answer_all(participant: Participant) -> None:
    while participant_current_question_id(participant) is not None:
        answer_current(participant)


def last_seen_minutes_ago(participant: Participant, minutes: int) -> None:
    Participant.objects.filter(pk=participant.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=minutes)
    )
    participant.refresh_from_db()
