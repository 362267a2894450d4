"""Answering: only the current question, only its options, each answer once and for good."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from survey.models import CANT_TELL, Answer, Participant
from survey.selectors.participants import participant_next_question
from survey.services.participants import (
    AnswerConflict,
    InvalidOption,
    ParticipantFinished,
    ParticipantNotActive,
    WrongQuestion,
    answer_submit,
    participant_touch,
)
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, answer_current, current_question, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada() -> Participant:
    return start(make_study())


def test_it_stores_an_answer_to_the_current_question(ada: Participant) -> None:
    question = current_question(ada)

    result = answer_submit(participant=ada, question_id=question.pk, option=question.prediction)

    assert result.created
    answer = Answer.objects.get(participant=ada)
    assert (answer.question_id, answer.option, answer.position) == (question.pk, question.prediction, 1)
    assert current_question(ada).pk == ada.question_order[1]


def test_it_stores_the_option_order_that_was_shown(ada: Participant) -> None:
    question = current_question(ada)

    answer = answer_current(ada).answer

    shuffled = list(question.options)
    random.Random(f"{ada.seed}:{question.pk}").shuffle(shuffled)
    assert answer.option_order == [*shuffled, CANT_TELL]


def test_it_measures_the_response_time_from_when_the_question_was_first_shown(ada: Participant) -> None:
    shown = timezone.now() - timedelta(seconds=4)
    participant_touch(participant=ada, now=shown, showing=True)
    participant_touch(participant=ada, now=shown + timedelta(seconds=3), showing=True)  # a reload
    question = current_question(ada)

    answer = answer_submit(
        participant=ada, question_id=question.pk, option=CANT_TELL, now=shown + timedelta(seconds=4)
    ).answer

    assert answer.shown_at == shown
    assert answer.response_ms == 4000
    ada.refresh_from_db()
    assert ada.current_shown_at is None  # the next question's clock starts when it is shown


def test_a_reload_racing_an_answer_still_starts_the_next_questions_clock(ada: Participant) -> None:
    shown = timezone.now() - timedelta(seconds=10)
    participant_touch(participant=ada, now=shown, showing=True)
    reload = Participant.objects.get(pk=ada.pk)  # a reload's copy, loaded while question 1 is shown
    answer_current(ada)  # meanwhile, another request answers question 1

    # The reload shows question 2.
    participant_touch(participant=reload, now=shown + timedelta(seconds=5), showing=True)
    second = current_question(ada)
    answer = answer_submit(
        participant=ada, question_id=second.pk, option=CANT_TELL, now=shown + timedelta(seconds=7)
    ).answer

    assert answer.position == 2
    assert answer.response_ms == 2000


def test_the_same_answer_twice_is_stored_once(ada: Participant) -> None:
    question = current_question(ada)
    first = answer_submit(participant=ada, question_id=question.pk, option=question.prediction)

    again = answer_submit(participant=ada, question_id=question.pk, option=question.prediction)

    assert not again.created
    assert again.answer.pk == first.answer.pk
    assert Answer.objects.filter(participant=ada).count() == 1


def test_it_refuses_to_change_an_answer(ada: Participant) -> None:
    question = current_question(ada)
    answer_submit(participant=ada, question_id=question.pk, option=question.prediction)

    with pytest.raises(AnswerConflict, match="cannot be changed"):
        answer_submit(participant=ada, question_id=question.pk, option=CANT_TELL)

    assert Answer.objects.get(participant=ada).option == question.prediction


def test_it_refuses_an_answer_to_another_question(ada: Participant) -> None:
    later = ada.question_order[5]

    with pytest.raises(WrongQuestion, match="not your current question; question 1 of 30 is"):
        answer_submit(participant=ada, question_id=later, option=CANT_TELL)

    assert not Answer.objects.exists()


def test_it_refuses_an_unknown_question(ada: Participant) -> None:
    with pytest.raises(WrongQuestion):
        answer_submit(participant=ada, question_id=987654, option=CANT_TELL)

    assert not Answer.objects.exists()


def test_it_refuses_an_option_of_another_question(ada: Participant) -> None:
    question = current_question(ada)
    foreign = next(label for label in ada.study.classes if label not in question.options)

    with pytest.raises(InvalidOption, match=f"'{foreign}' is not one of the options"):
        answer_submit(participant=ada, question_id=question.pk, option=foreign)

    assert not Answer.objects.exists()


def test_it_refuses_the_cant_tell_label_in_place_of_its_id(ada: Participant) -> None:
    question = current_question(ada)

    with pytest.raises(InvalidOption):
        answer_submit(participant=ada, question_id=question.pk, option="I just can't tell")


def test_the_last_answer_completes_the_participant(ada: Participant) -> None:
    answer_all(ada)

    ada.refresh_from_db()
    assert ada.status == Participant.Status.COMPLETED
    assert ada.completed_at is not None
    assert participant_next_question(ada) is None
    assert list(Answer.objects.filter(participant=ada).values_list("position", flat=True)) == list(
        range(1, 31)
    )


def test_a_finished_participant_may_repeat_the_last_answer_but_not_add_one(ada: Participant) -> None:
    answer_all(ada)
    last = Answer.objects.get(participant=ada, position=30)

    repeated = answer_submit(participant=ada, question_id=last.question_id, option=last.option)

    assert not repeated.created
    with pytest.raises(ParticipantFinished):
        answer_submit(participant=ada, question_id=last.question_id, option=CANT_TELL)


def test_a_participant_who_left_cannot_answer(ada: Participant) -> None:
    Participant.objects.filter(pk=ada.pk).update(status=Participant.Status.ABANDONED)
    question = current_question(ada)

    with pytest.raises(ParticipantNotActive, match="answers so far are kept"):
        answer_submit(participant=ada, question_id=question.pk, option=question.prediction)

    assert not Answer.objects.exists()
