"""The landing page says how long the study takes: as configured, or as completed participants took."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from survey.constants import TIME_ESTIMATE_MIN_COMPLETED
from survey.models import Participant, Study
from survey.selectors.studies import TimeEstimate, study_time_estimate
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, start

pytestmark = pytest.mark.django_db


def completed_in(study: Study, minutes: float) -> None:
    participant = start(study)
    answer_all(participant)
    participant = Participant.objects.get(pk=participant.pk)
    Participant.objects.filter(pk=participant.pk).update(
        started_at=participant.completed_at - timedelta(minutes=minutes)
    )


def test_a_configured_estimate_is_shown() -> None:
    study = make_study(n_correct=1, n_wrong=1)
    study.expected_minutes = 12
    study.save()

    page = Client().get(f"/s/{study.slug}/").content.decode()

    assert "This study takes about <strong>12 minutes</strong>." in page


def test_without_one_nothing_is_promised_until_enough_have_completed() -> None:
    study = make_study(n_correct=1, n_wrong=1)
    for minutes in range(TIME_ESTIMATE_MIN_COMPLETED - 1):
        completed_in(study, 10 + minutes)

    assert study_time_estimate(study=study) is None
    assert "This study takes about" not in Client().get(f"/s/{study.slug}/").content.decode()


def test_then_the_median_of_completed_participants_is_shown_rounded_up() -> None:
    study = make_study(n_correct=1, n_wrong=1)
    for minutes in [6.2, 7.5, 8.1, 30, 9.0]:
        completed_in(study, minutes)

    assert study_time_estimate(study=study) == TimeEstimate(minutes=9, measured=True)
    assert "about <strong>9 minutes</strong>" in Client().get(f"/s/{study.slug}/").content.decode()
