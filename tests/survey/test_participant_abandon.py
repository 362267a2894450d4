"""Abandonment: going quiet past the timeout, or leaving on purpose. Answers are always kept."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from survey.models import Answer, Participant
from survey.selectors.participants import Step, participant_effective_status, participant_step
from survey.services.participants import (
    ParticipantFinished,
    participant_leave,
    participant_touch,
    participants_mark_abandoned,
)
from survey.tasks import participants_mark_abandoned_task
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, answer_current, last_seen_minutes_ago, start

pytestmark = pytest.mark.django_db


def test_a_participant_quiet_past_the_timeout_counts_as_abandoned(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 30
    ada = start(make_study())
    last_seen_minutes_ago(ada, 31)

    assert ada.status == Participant.Status.IN_PROGRESS
    assert participant_effective_status(ada) == Participant.Status.ABANDONED
    assert participant_step(ada) == Step.ABANDONED


def test_a_participant_seen_within_the_timeout_is_still_in_progress(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 30
    ada = start(make_study())
    last_seen_minutes_ago(ada, 29)

    assert participant_effective_status(ada) == Participant.Status.IN_PROGRESS


def test_the_studys_own_timeout_wins_over_the_setting(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 600
    study = make_study()
    study.abandon_after_minutes = 10
    study.save()
    ada = start(study)
    last_seen_minutes_ago(ada, 11)

    assert participant_effective_status(ada) == Participant.Status.ABANDONED


def test_marking_abandoned_changes_only_stale_participants_in_progress(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 30
    study = make_study()
    ada, bob, cleo = start(study), start(study), start(study)
    answer_current(ada)
    last_seen_minutes_ago(ada, 45)
    last_seen_minutes_ago(bob, 5)
    answer_all(cleo)
    last_seen_minutes_ago(cleo, 45)

    assert participants_mark_abandoned() == 1

    statuses = dict(Participant.objects.values_list("pk", "status"))
    assert statuses == {ada.pk: "abandoned", bob.pk: "in_progress", cleo.pk: "completed"}
    assert Answer.objects.filter(participant=ada).count() == 1


def test_the_celery_task_and_the_command_mark_abandoned_participants(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 30
    study = make_study()
    ada, bob = start(study), start(study)
    last_seen_minutes_ago(ada, 31)

    assert participants_mark_abandoned_task.delay().get() == 1
    last_seen_minutes_ago(bob, 31)
    out = StringIO()
    call_command("mark_abandoned", stdout=out)

    assert "Marked 1 participant(s) as abandoned." in out.getvalue()
    assert set(Participant.objects.values_list("status", flat=True)) == {"abandoned"}


def test_a_stale_participant_who_comes_back_is_marked_abandoned_not_revived(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 30
    ada = start(make_study())
    last_seen_minutes_ago(ada, 31)

    participant_touch(participant=ada)

    assert ada.status == Participant.Status.ABANDONED


def test_a_visit_within_the_timeout_updates_last_seen(settings) -> None:
    ada = start(make_study())
    last_seen_minutes_ago(ada, 10)
    before = ada.last_seen_at

    participant_touch(participant=ada)

    assert ada.last_seen_at > before
    assert ada.status == Participant.Status.IN_PROGRESS


def test_leaving_marks_the_participant_abandoned_and_keeps_the_answers() -> None:
    ada = start(make_study())
    answer_current(ada)
    answer_current(ada)

    participant_leave(participant=ada)

    assert ada.status == Participant.Status.ABANDONED
    assert Answer.objects.filter(participant=ada).count() == 2


def test_leaving_twice_is_harmless() -> None:
    ada = start(make_study())
    participant_leave(participant=ada)

    participant_leave(participant=ada)

    assert ada.status == Participant.Status.ABANDONED


def test_a_finished_participant_cannot_leave() -> None:
    ada = start(make_study())
    answer_all(ada)

    with pytest.raises(ParticipantFinished):
        participant_leave(participant=ada)

    ada.refresh_from_db()
    assert ada.status == Participant.Status.COMPLETED
