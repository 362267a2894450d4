"""Reads on the participant side: who a token is, where they are, and what they see next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db.models import QuerySet
from django.utils import timezone

from survey.models import ExtraQuestion, Participant, Study
from survey.rows import participant_row
from survey.selectors.checks import Comprehension, PracticeFeedback, comprehension_state, practice_feedback
from survey.selectors.content import study_content_at
from survey.selectors.questions import (
    NextQuestion,
    Option,
    item_question,
    practice_question,
    question_option_ids,
    question_option_order,
    question_options,
)
from survey.selectors.sequence import Item, Role, sequence_at, sequence_items
from survey.selectors.studies import study_abandon_cutoff, study_condition_counts

# Re-exported: the survey's code and tests know these as the participant selectors' own.
__all__ = [
    "NextQuestion",
    "Option",
    "Role",
    "Step",
    "question_option_ids",
    "question_option_order",
    "question_options",
]


class Step(StrEnum):
    """Where a participant's next request should take them."""

    INTRO = "intro"
    COMPREHENSION = "comprehension"
    PRACTICE = "practice"
    QUESTION = "question"
    DONE = "done"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100


def participant_by_token(*, token: str, slug: str | None = None) -> Participant | None:
    """The participant with this token (in the study ``slug``, when given), or None.

    One query: the participant's row and their study's content version (survey.rows); the study and the
    condition come from the study's content in memory (survey.selectors.content).
    """
    participant = participant_row(token=token, slug=slug)
    if participant is not None:
        content = study_content_at(study_id=participant.study_id, version=participant.study_version)
        participant.study, participant.condition = content.study, content.conditions[participant.condition_id]
    return participant


def participant_is_stale(participant: Participant, *, now: datetime | None = None) -> bool:
    """An in-progress participant not seen within the study's timeout counts as abandoned."""
    if participant.status != Participant.Status.IN_PROGRESS:
        return False
    return participant.last_seen_at < study_abandon_cutoff(study=participant.study, now=now)


def participant_effective_status(participant: Participant, *, now: datetime | None = None) -> str:
    if participant_is_stale(participant, now=now):
        return Participant.Status.ABANDONED
    return participant.status


def participant_step(participant: Participant, *, now: datetime | None = None) -> Step:
    """Intro, then the comprehension check (if the condition has one), practice (if the study has any),
    the questions, and done."""
    status = participant_effective_status(participant, now=now)
    if status == Participant.Status.COMPLETED:
        return Step.DONE
    if status == Participant.Status.ABANDONED:
        return Step.ABANDONED
    if participant.intro_seen_at is None:
        return Step.INTRO
    if participant.condition.comprehension and participant.comprehension_passed_at is None:
        return Step.COMPREHENSION
    if participant.practice_done_at is None:
        return Step.PRACTICE
    return Step.QUESTION


def participant_practice_pending(participant: Participant) -> QuerySet[ExtraQuestion]:
    return ExtraQuestion.objects.filter(
        study_id=participant.study_id, role=ExtraQuestion.Role.PRACTICE
    ).exclude(answers__participant=participant)


def participant_items(participant: Participant) -> list[Item]:
    """Everything the participant is asked, attention checks included, in their order."""
    return sequence_items(question_order=participant.question_order, slots=participant.attention_slots)


def participant_current_item(participant: Participant) -> Item | None:
    """The study question or attention check the participant answers next; None when all are answered.

    Items are answered in order, so the count of answered ones says where the participant is: no query.
    """
    return _participant_at(participant)[0]


def _participant_at(participant: Participant) -> tuple[Item | None, Item | None]:
    return sequence_at(
        question_order=participant.question_order,
        slots=participant.attention_slots,
        index=participant.answered_count,
    )


def participant_current_question_id(participant: Participant) -> int | None:
    """The first of the participant's study questions that has no answer yet (checks aside)."""
    upcoming = participant_items(participant)[participant.answered_count :]
    return next((item.id for item in upcoming if item.role == Role.QUESTION), None)


def participant_progress(participant: Participant) -> Progress:
    """How far the participant is, counted as the progress bar counts: attention checks included."""
    total = len(participant.question_order) + len(participant.attention_slots)
    return Progress(answered=participant.answered_count, total=total)


def participant_next_question(participant: Participant) -> NextQuestion | None:
    """What the participant answers next, or None when every question and check is answered."""
    current, following = _participant_at(participant)
    if current is None:
        return None
    return item_question(
        item=current,
        study=participant.study,
        condition_id=participant.condition_id,
        seed=participant.seed,
        following=following,
    )


def participant_practice_question(participant: Participant) -> NextQuestion | None:
    """The practice question the participant answers next, or None when they are all answered."""
    return practice_question(
        study=participant.study,
        answered=set(participant.extra_answers.values_list("question_id", flat=True)),
        condition_id=participant.condition_id,
        seed=participant.seed,
    )


def participant_completion_code(participant: Participant) -> str:
    """The code the participant is shown on completion: their own, when the study gives unique codes."""
    if participant.study.unique_completion_codes and participant.completion_code:
        return participant.completion_code
    return participant.study.completion_code


def participant_comprehension(participant: Participant) -> Comprehension:
    """The comprehension questions the participant has still to answer right."""
    attempts = list(participant.comprehension_answers.values_list("number", "correct"))
    right = {number for number, correct in attempts if correct}
    wrong = sum(1 for _, correct in attempts if not correct)
    return comprehension_state(condition=participant.condition, right=right, wrong=wrong)


def participant_practice_feedback(participant: Participant) -> PracticeFeedback | None:
    """What the participant's latest practice answer shows them: the model's prediction beside theirs."""
    latest = (
        participant.extra_answers.filter(question__role=ExtraQuestion.Role.PRACTICE)
        .select_related("question")
        .order_by("-answered_at", "-id")
        .first()
    )
    if latest is None:
        return None
    return practice_feedback(
        question=latest.question,
        option=latest.option,
        condition_id=participant.condition_id,
        study=participant.study,
        more=participant_practice_pending(participant).exists(),
    )


def condition_fill(*, study: Study, now: datetime | None = None) -> dict[int, int]:
    """Per condition id: completed participants plus in-progress ones seen within the timeout.

    A pilot fills conditions with pilot participants; an open study with real ones only.
    """
    pilot = study.status == Study.Status.PILOT
    counts = study_condition_counts(study=study, now=now or timezone.now(), pilot=pilot)
    ids = dict(study.conditions.values_list("key", "id"))
    return {ids[key]: row["completed"] + row["in_progress"] for key, row in counts.items()}
