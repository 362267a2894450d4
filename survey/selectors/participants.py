"""Reads on the participant side: who a token is, where they are, and what they see next."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from django.utils import timezone

from survey.models import CANT_TELL, CANT_TELL_LABEL, Explanation, Participant, Question, Study
from survey.selectors.studies import study_abandon_cutoff, study_condition_counts


class Step(StrEnum):
    """Where a participant's next request should take them."""

    INTRO = "intro"
    QUESTION = "question"
    DONE = "done"
    ABANDONED = "abandoned"


class Option(NamedTuple):
    id: str  # what the participant's answer sends back
    label: str  # what the participant sees


@dataclass(frozen=True)
class NextQuestion:
    question: Question
    explanation: Explanation | None  # None only if the study was opened without one (readiness forbids it)
    position: int  # 1-based, in the participant's order
    total: int
    options: list[Option]  # in the participant's order, "I just can't tell" last


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100


def participant_by_token(*, token: str, slug: str | None = None) -> Participant | None:
    participants = Participant.objects.select_related("study", "condition").filter(token=token)
    if slug is not None:
        participants = participants.filter(study__slug=slug)
    return participants.first()


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
    status = participant_effective_status(participant, now=now)
    if status == Participant.Status.COMPLETED:
        return Step.DONE
    if status == Participant.Status.ABANDONED:
        return Step.ABANDONED
    return Step.INTRO if participant.intro_seen_at is None else Step.QUESTION


def participant_current_question_id(participant: Participant) -> int | None:
    """The first question in the participant's order that has no answer yet."""
    answered = set(participant.answers.values_list("question_id", flat=True))
    return next((qid for qid in participant.question_order if qid not in answered), None)


def participant_progress(participant: Participant) -> Progress:
    return Progress(answered=participant.answers.count(), total=len(participant.question_order))


def participant_next_question(participant: Participant) -> NextQuestion | None:
    """What the participant answers next, or None when every question is answered."""
    question_id = participant_current_question_id(participant)
    if question_id is None:
        return None
    question = Question.objects.get(pk=question_id)
    return NextQuestion(
        question=question,
        explanation=Explanation.objects.filter(
            question=question, condition_id=participant.condition_id
        ).first(),
        position=participant.question_order.index(question_id) + 1,
        total=len(participant.question_order),
        options=question_options(question, seed=participant.seed),
    )


def question_option_ids(question: Question) -> set[str]:
    return {*question.options, CANT_TELL}


def question_option_order(question: Question, *, seed: int) -> list[str]:
    """The class options shuffled per participant and question (stable on reload), then "can't tell"."""
    classes = list(question.options)
    random.Random(f"{seed}:{question.pk}").shuffle(classes)
    return [*classes, CANT_TELL]


def question_options(question: Question, *, seed: int) -> list[Option]:
    return [
        Option(option, CANT_TELL_LABEL if option == CANT_TELL else option)
        for option in question_option_order(question, seed=seed)
    ]


def condition_fill(*, study: Study, now: datetime | None = None) -> dict[int, int]:
    """Per condition id: completed participants plus in-progress ones seen within the timeout."""
    counts = study_condition_counts(study=study, now=now or timezone.now())
    ids = dict(study.conditions.values_list("key", "id"))
    return {ids[key]: row["completed"] + row["in_progress"] for key, row in counts.items()}
