"""A pilot before opening: its participants are recorded, shown apart, and left out of the analysis."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from survey.models import Participant, Study
from survey.selectors.studies import participants_analysed, study_condition_counts, study_exclusions
from survey.services.studies import StudyNotPilot, StudyNotReady, study_open, study_pilot
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study(status=Study.Status.DRAFT)
    study_pilot(study=study)
    return study


def test_pilot_participants_are_marked_and_the_landing_page_takes_them(study: Study) -> None:
    client = Client()

    client.post(reverse("survey:landing", kwargs={"slug": study.slug}), {"consent": "on"})

    assert Participant.objects.get().is_pilot


def test_pilot_participants_are_counted_apart_from_real_ones(study: Study) -> None:
    answer_all(start(study))
    start(study)
    study_open(study=study)

    start(study)

    assert study_condition_counts(study=study) == {
        "gradcam": {"started": 1, "completed": 0, "abandoned": 0, "in_progress": 1},
        "pv": {"started": 0, "completed": 0, "abandoned": 0, "in_progress": 0},
    }
    assert study_condition_counts(study=study, pilot=True) == {
        "gradcam": {"started": 1, "completed": 1, "abandoned": 0, "in_progress": 0},
        "pv": {"started": 1, "completed": 0, "abandoned": 0, "in_progress": 1},
    }


def test_opening_after_the_pilot_starts_the_turn_afresh(study: Study) -> None:
    pilots = [start(study).condition.key for _ in range(3)]
    study_open(study=study)

    real = [start(study).condition.key for _ in range(2)]

    assert pilots == ["gradcam", "pv", "gradcam"]
    assert real == ["gradcam", "pv"]  # the pilot's odd count does not tilt the real participants' balance


def test_the_analysis_leaves_the_pilot_out_unless_asked(study: Study) -> None:
    pilot = start(study)
    study_open(study=study)
    real = start(study)

    assert list(participants_analysed(study=study)) == [real]
    assert set(participants_analysed(study=study, include_pilot=True)) == {pilot, real}
    assert study_exclusions(study=study) == {"pilot": 1, "attention_failed": 0}


def test_a_study_cannot_go_back_to_a_pilot_once_real_participants_started(study: Study) -> None:
    study_open(study=study)
    start(study)

    with pytest.raises(StudyNotPilot, match="already has real participants"):
        study_pilot(study=study)


def test_a_study_that_is_not_ready_cannot_start_a_pilot() -> None:
    study = make_study(status=Study.Status.DRAFT, completion_code="")

    with pytest.raises(StudyNotReady, match="completion code"):
        study_pilot(study=study)


def test_the_admin_pilots_a_study_and_shows_its_participants_apart(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)

    admin_client.post(
        reverse("admin:survey_study_changelist"), {"action": "pilot_studies", "_selected_action": [study.pk]}
    )
    study.refresh_from_db()
    start(study)
    page = admin_client.get(reverse("admin:survey_study_change", args=[study.pk])).content.decode()

    assert study.status == Study.Status.PILOT
    assert "pilot participants (kept apart)" in page.lower()
    assert "<tr><td>gradcam</td><td>1</td><td>0</td><td>0</td><td>1</td></tr>" in page
    assert "1 pilot participant;" in page


def test_a_draft_with_only_pilot_participants_can_still_be_edited(study: Study, admin_client: Client) -> None:
    start(study)
    Study.objects.filter(pk=study.pk).update(status=Study.Status.DRAFT)

    form = admin_client.get(reverse("admin:survey_condition_add")).context["adminform"].form

    assert list(form.fields["study"].queryset) == [study]
