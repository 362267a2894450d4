"""Presenting the current question: what the question page and the API's next both call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from survey.models import Participant
from survey.selectors.participants import NextQuestion
from survey.services.participants import ParticipantNotActive
from survey.services.questions import Completed, participant_current_question
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, answer_current, last_seen_minutes_ago, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada() -> Participant:
    return start(make_study())


def test_it_presents_the_first_unanswered_question_in_the_participants_order(ada: Participant) -> None:
    answer_current(ada)

    current = participant_current_question(participant=ada)

    assert isinstance(current, NextQuestion)
    assert (current.question.pk, current.position, current.total) == (ada.question_order[1], 2, 30)


def test_it_records_the_participant_as_seen_and_starts_the_clock_once(ada: Participant) -> None:
    shown = timezone.now()

    participant_current_question(participant=ada, now=shown)
    participant_current_question(participant=ada, now=shown + timedelta(seconds=4))  # a reload

    ada.refresh_from_db()
    assert ada.current_shown_at == shown
    assert ada.last_seen_at == shown + timedelta(seconds=4)


def test_after_the_last_answer_it_says_completed(ada: Participant) -> None:
    answer_all(ada)

    assert participant_current_question(participant=ada) == Completed(study=ada.study)


def test_it_refuses_a_participant_away_too_long_and_marks_them_abandoned(ada: Participant) -> None:
    last_seen_minutes_ago(ada, 24 * 60)

    with pytest.raises(ParticipantNotActive, match="left the study"):
        participant_current_question(participant=ada)

    ada.refresh_from_db()
    assert ada.status == Participant.Status.ABANDONED
    assert ada.current_shown_at is None
