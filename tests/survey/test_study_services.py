from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from survey.models import Explanation, Participant, Study
from survey.selectors.studies import study_condition_counts
from survey.services.studies import StudyNotReady, study_close, study_open, study_readiness_problems
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def test_a_complete_study_opens() -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=2, n_wrong=2)

    study_open(study=study)

    study.refresh_from_db()
    assert study.status == Study.Status.OPEN


def test_it_refuses_to_open_a_study_with_a_missing_explanation_and_names_it() -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=2, n_wrong=2)
    Explanation.objects.get(question__key="q003", condition__key="pv").delete()

    with pytest.raises(StudyNotReady) as caught:
        study_open(study=study)

    assert caught.value.problems == ["question q003 has no explanation for condition pv"]
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT


def test_an_explanation_whose_file_is_gone_counts_as_missing() -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=0)
    explanation = Explanation.objects.get(condition__key="gradcam")
    explanation.image.storage.delete(explanation.image.name)

    assert study_readiness_problems(study=study) == ["question q000 has no explanation for condition gradcam"]


def test_an_empty_study_needs_conditions_and_questions() -> None:
    study = Study.objects.create(slug="empty", name="Empty")

    assert study_readiness_problems(study=study) == [
        "the study has no conditions",
        "the study has no questions",
        "the study needs a completion code or a completion redirect URL",
    ]


def test_a_study_needs_a_completion_code_or_a_redirect_to_open() -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1, completion_code="")

    with pytest.raises(StudyNotReady) as caught:
        study_open(study=study)

    assert caught.value.problems == ["the study needs a completion code or a completion redirect URL"]
    study.completion_redirect_url = "https://app.prolific.com/submissions/complete?cc=X"
    study.save()
    study_open(study=study)
    study.refresh_from_db()
    assert study.status == Study.Status.OPEN


def test_every_question_needs_four_distinct_options_with_its_prediction() -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=2, n_wrong=0)
    study.questions.filter(key="q000").update(options=["aeroplane", "bicycle", "bicycle", "bird"])
    study.questions.filter(key="q001").update(prediction="dog", labels=["dog"])

    assert study_readiness_problems(study=study) == [
        "question q000: option bicycle appears more than once",
        "question q001: the prediction 'dog' is not among the options",
    ]


def test_closing_a_study_closes_it() -> None:
    study = make_study(n_correct=1, n_wrong=0)

    study_close(study=study)

    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED


def test_condition_counts_treat_stale_participants_as_abandoned(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 60
    study = make_study(n_correct=1, n_wrong=0)
    gradcam, pv = study.conditions.all()
    now = timezone.now()
    for condition, status, idle_minutes in [
        (gradcam, Participant.Status.COMPLETED, 500),
        (gradcam, Participant.Status.IN_PROGRESS, 5),
        (gradcam, Participant.Status.IN_PROGRESS, 61),
        (pv, Participant.Status.ABANDONED, 0),
    ]:
        participant = Participant.objects.create(study=study, condition=condition, seed=1, status=status)
        Participant.objects.filter(pk=participant.pk).update(
            last_seen_at=now - timedelta(minutes=idle_minutes)
        )

    counts = study_condition_counts(study=study, now=now)

    assert counts == {
        "gradcam": {"started": 3, "completed": 1, "abandoned": 1, "in_progress": 1},
        "pv": {"started": 1, "completed": 0, "abandoned": 1, "in_progress": 0},
    }


def test_a_study_can_wait_longer_than_the_default_before_calling_someone_abandoned() -> None:
    study = make_study(n_correct=1, n_wrong=0)
    study.abandon_after_minutes = 120
    study.save()
    participant = Participant.objects.create(study=study, condition=study.conditions.first(), seed=1)
    now = participant.last_seen_at + timedelta(minutes=90)

    assert study_condition_counts(study=study, now=now)["gradcam"]["in_progress"] == 1
