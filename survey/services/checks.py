"""Writes of the screening and training steps: the comprehension check and the practice questions.

Attention checks are answered through answer_submit, since they sit among the study's questions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from survey.models import ComprehensionAnswer, ExtraAnswer, Participant
from survey.selectors.checks import comprehension_grade
from survey.selectors.participants import (
    Step,
    participant_comprehension,
    participant_practice_pending,
    participant_practice_question,
    participant_step,
    question_option_ids,
    question_option_order,
)
from survey.services.participants import (
    AnswerConflict,
    InvalidOption,
    WrongQuestion,
    answer_timing,
    participant_lock,
    participant_require_active,
)


@transaction.atomic
def comprehension_answer(
    *, participant: Participant, choices: Mapping[int, str], now: datetime | None = None
) -> bool:
    """Record one attempt at each comprehension question still open; True once all are answered right.

    Every attempt is kept. A wrong answer leaves its question open: the page shows the introduction again
    and asks it again. Nothing is stored when an answer is missing or not one of its choices.
    """
    now = now or timezone.now()
    locked = participant_lock(pk=participant.pk)
    participant_require_active(participant=locked, now=now)
    if locked.comprehension_passed_at is not None:
        return True  # a repeated submit of the last right answers
    pending = participant_comprehension(locked).pending
    graded = comprehension_grade(pending=pending, choices=choices)
    ComprehensionAnswer.objects.bulk_create(
        ComprehensionAnswer(
            participant=locked,
            number=item.number,
            prompt=item.prompt,
            choice=choices[item.number],
            correct=graded[item.number],
            answered_at=now,
        )
        for item in pending
    )
    passed = all(graded.values())
    if passed:
        Participant.objects.filter(pk=locked.pk).update(comprehension_passed_at=now, last_seen_at=now)
    participant.refresh_from_db()
    return passed


@transaction.atomic
def practice_answer_submit(
    *,
    participant: Participant,
    question_id: int,
    option: str,
    client_response_ms: int | None = None,
    now: datetime | None = None,
) -> ExtraAnswer:
    """Store the answer to the current practice question; it is never counted. The same answer twice is
    stored once."""
    now = now or timezone.now()
    locked = participant_lock(pk=participant.pk)
    existing = ExtraAnswer.objects.filter(participant=locked, question_id=question_id).first()
    if existing is not None and existing.option == option:
        return existing
    participant_require_active(participant=locked, now=now)
    if existing is not None:
        raise AnswerConflict("This practice question was already answered; answers cannot be changed.")
    current = participant_practice_question(locked)
    if participant_step(locked, now=now) != Step.PRACTICE or current is None:
        raise WrongQuestion("There is no practice question to answer now.")
    if current.question.pk != question_id:
        raise WrongQuestion(f"This is not your current practice question; practice {current.position} is.")
    if option not in question_option_ids(current.question):
        raise InvalidOption(f"{option!r} is not one of the options of this practice question.")
    answer = ExtraAnswer.objects.create(
        participant=locked,
        question=current.question,
        option=option,
        correct=option == current.question.answer,
        position=current.position,
        option_order=question_option_order(current.question, seed=locked.seed),
        **answer_timing(participant=locked, now=now, client_ms=client_response_ms),
    )
    finished = not participant_practice_pending(locked).exists()
    Participant.objects.filter(pk=locked.pk).update(
        current_shown_at=None, last_seen_at=now, practice_done_at=now if finished else None
    )
    participant.refresh_from_db()
    return answer
