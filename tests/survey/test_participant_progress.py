"""What a participant sees next: resume where they were, options in a stable per-person order."""

from __future__ import annotations

import pytest

from survey.models import CANT_TELL, CANT_TELL_LABEL, Participant
from survey.selectors.participants import (
    Step,
    participant_by_token,
    participant_next_question,
    participant_progress,
    participant_step,
)
from survey.services.participants import participant_intro_seen
from tests.factories import make_study
from tests.survey.helpers_core import answer_current, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada() -> Participant:
    return start(make_study())


def test_the_next_question_follows_the_participants_order(ada: Participant) -> None:
    upcoming = participant_next_question(ada)

    assert upcoming is not None
    assert (upcoming.question.pk, upcoming.position, upcoming.total) == (ada.question_order[0], 1, 30)
    assert upcoming.explanation is not None
    assert upcoming.explanation.condition_id == ada.condition_id


def test_it_resumes_at_the_first_unanswered_question(ada: Participant) -> None:
    for _ in range(3):
        answer_current(ada)

    reloaded = participant_by_token(token=ada.token)
    upcoming = participant_next_question(reloaded)

    assert (upcoming.question.pk, upcoming.position) == (ada.question_order[3], 4)
    assert participant_progress(reloaded).answered == 3


def test_there_are_five_options_the_four_classes_then_cant_tell(ada: Participant) -> None:
    upcoming = participant_next_question(ada)

    ids = [option_id for option_id, _ in upcoming.options]
    assert len(ids) == 5
    assert sorted(ids[:4]) == sorted(upcoming.question.options)
    assert upcoming.options[-1] == (CANT_TELL, CANT_TELL_LABEL)


def test_the_option_order_is_the_same_on_every_reload(ada: Participant) -> None:
    first = participant_next_question(ada).options

    assert participant_next_question(participant_by_token(token=ada.token)).options == first


def test_the_option_order_differs_between_participants() -> None:
    study = make_study()
    people = [start(study) for _ in range(6)]
    question = study.questions.first()

    orders = set()
    for person in people:
        Participant.objects.filter(pk=person.pk).update(question_order=[question.pk])
        person.refresh_from_db()
        orders.add(tuple(participant_next_question(person).options))

    assert len(orders) > 1


def test_the_options_are_the_same_classes_in_every_condition() -> None:
    study = make_study()
    ada, bob = start(study), start(study)
    assert ada.condition != bob.condition
    question = study.questions.first()
    for person in (ada, bob):
        Participant.objects.filter(pk=person.pk).update(question_order=[question.pk])
        person.refresh_from_db()

    def classes(person: Participant) -> set[str]:
        return {option_id for option_id, _ in participant_next_question(person).options}

    assert classes(ada) == classes(bob)


def test_the_steps_go_intro_then_questions(ada: Participant) -> None:
    assert participant_step(ada) == Step.INTRO

    participant_intro_seen(participant=ada)

    assert participant_step(ada) == Step.QUESTION


def test_a_token_of_another_study_is_not_found(ada: Participant) -> None:
    make_study(slug="other")

    assert participant_by_token(token=ada.token, slug="other") is None
    assert participant_by_token(token=ada.token, slug=ada.study.slug) == ada
