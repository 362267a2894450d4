"""Participants and answers written straight through the ORM, for tests of the analysis."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from survey.constants import CANT_TELL
from survey.models import Answer, Participant, Question, Study
from tests.factories import make_study


def make_participant(
    study: Study,
    condition: str,
    *,
    status: str = Participant.Status.COMPLETED,
    last_seen_at: datetime | None = None,
) -> Participant:
    participant = Participant.objects.create(
        study=study, condition=study.conditions.get(key=condition), seed=0, status=status
    )
    if last_seen_at is not None:
        # last_seen_at is auto_now_add: only an update can set it in the past.
        Participant.objects.filter(pk=participant.pk).update(last_seen_at=last_seen_at)
        participant.refresh_from_db()
    return participant


def wrong_option(question: Question) -> str:
    return next(option for option in question.options if option != question.prediction)


def answer(
    participant: Participant, question: Question, option: str, *, position: int, ms: int = 1500
) -> Answer:
    shown = timezone.now()
    return Answer.objects.create(
        participant=participant,
        question=question,
        option=option,
        position=position,
        option_order=[*question.options, CANT_TELL],
        shown_at=shown,
        answered_at=shown + timedelta(milliseconds=ms),
        response_ms=ms,
    )


def answer_questions(
    participant: Participant,
    questions: Sequence[Question],
    *,
    hits: int,
    cant_tell: int = 0,
    start: int = 1,
) -> list[Answer]:
    """The first `hits` questions get the prediction, the next `cant_tell` "I just can't tell", the rest
    another class; positions count from `start`."""
    made = []
    for offset, question in enumerate(questions):
        if offset < hits:
            option = question.prediction
        elif offset < hits + cant_tell:
            option = CANT_TELL
        else:
            option = wrong_option(question)
        made.append(answer(participant, question, option, position=start + offset, ms=1000 + 100 * offset))
    return made


def take_part(
    study: Study,
    condition: str,
    *,
    wrong_hits: int,
    right_hits: int,
    status: str = Participant.Status.COMPLETED,
    cant_tell: int = 0,
) -> Participant:
    """A participant who answered every question: `right_hits` where the model was right, `wrong_hits`
    where it was wrong (and `cant_tell` of the rest of those "I just can't tell")."""
    participant = make_participant(study, condition, status=status)
    right = list(study.questions.filter(model_correct=True))
    wrong = list(study.questions.filter(model_correct=False))
    answer_questions(participant, right, hits=right_hits)
    answer_questions(participant, wrong, hits=wrong_hits, cant_tell=cant_tell, start=len(right) + 1)
    return participant


def make_scenario(slug: str = "scenario") -> Study:
    """A small study (4 questions the model got right, q000-q003; 3 it got wrong, q004-q006):

    gradcam: completed 0/3 wrong-subset and 4/4 right-subset hits; completed 1/3 (plus one "I just can't
             tell") and 3/4; in progress but last seen two hours ago, no answers; abandoned after 1 answer.
    pv:      completed 2/3 and 2/4; completed 3/3 and 4/4; in progress now, 2 right-subset answers, both hits.
    """
    study = make_study(slug=slug, n_correct=4, n_wrong=3)
    take_part(study, "gradcam", wrong_hits=0, right_hits=4)
    take_part(study, "gradcam", wrong_hits=1, right_hits=3, cant_tell=1)
    make_participant(study, "gradcam", status=Participant.Status.IN_PROGRESS, last_seen_at=_hours_ago(2))
    quitter = make_participant(study, "gradcam", status=Participant.Status.ABANDONED)
    answer_questions(quitter, list(study.questions.filter(model_correct=True))[:1], hits=1)
    take_part(study, "pv", wrong_hits=2, right_hits=2)
    take_part(study, "pv", wrong_hits=3, right_hits=4)
    partial = make_participant(study, "pv", status=Participant.Status.IN_PROGRESS)
    answer_questions(partial, list(study.questions.filter(model_correct=True))[:2], hits=2)
    return study


def _hours_ago(hours: int) -> datetime:
    return timezone.now() - timedelta(hours=hours)


def make_scored_study(
    slug: str, hits: dict[str, list[tuple[int, int]]], *, n_correct: int, n_wrong: int
) -> Study:
    """A study with the conditions of `hits`, in its order, and one completed participant per
    (wrong_hits, right_hits) pair listed under their condition."""
    study = make_study(slug=slug, conditions=tuple(hits), n_correct=n_correct, n_wrong=n_wrong)
    for condition, scores in hits.items():
        for wrong_hits, right_hits in scores:
            take_part(study, condition, wrong_hits=wrong_hits, right_hits=right_hits)
    return study
