"""The comprehension check after the introduction: asked until answered right, every attempt kept."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from survey.models import ComprehensionAnswer, Participant, Study
from survey.selectors.checks import ComprehensionIncomplete
from survey.selectors.participants import Step, participant_step
from survey.services.checks import comprehension_answer
from survey.services.participants import participant_intro_seen
from tests.factories import make_study
from tests.survey.helpers_checks import READING, TASK, comprehension_add
from tests.survey.helpers_core import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study()
    comprehension_add(study)
    return study


def url(name: str, participant: Participant) -> str:
    return reverse(f"survey:{name}", kwargs={"slug": participant.study.slug, "token": participant.token})


def past_intro(client: Client, study: Study) -> Participant:
    client.post(reverse("survey:landing", kwargs={"slug": study.slug}), {"consent": "on"})
    participant = Participant.objects.get()
    client.post(url("intro", participant))
    return participant


def test_the_intro_leads_to_the_comprehension_check_before_any_question(study: Study) -> None:
    client = Client()
    client.post(reverse("survey:landing", kwargs={"slug": study.slug}), {"consent": "on"})
    ada = Participant.objects.get()

    response = client.post(url("intro", ada))

    assert response.url == url("comprehension", ada)
    assert client.get(url("question", ada)).url == url("comprehension", ada)
    page = client.get(url("comprehension", ada)).content.decode()
    assert TASK["prompt"] in page and READING["prompt"] in page
    assert page.count("<h1>") == 1


def test_a_wrong_answer_shows_the_explanation_again_and_asks_that_question_again(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.post(
        url("comprehension", ada), {"item-1": "Name the object", "item-2": READING["answer"]}
    )

    assert response.url == url("comprehension", ada)
    page = client.get(url("comprehension", ada)).content.decode()
    assert "Not quite." in page and f"How {ada.condition.key} works." in page  # the introduction again
    assert TASK["prompt"] in page and READING["prompt"] not in page  # only the question still open
    ada.refresh_from_db()
    assert participant_step(ada) == Step.COMPREHENSION


def test_the_right_answers_let_the_participant_on_and_every_attempt_is_kept(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    client.post(url("comprehension", ada), {"item-1": "Name the object", "item-2": READING["answer"]})

    response = client.post(url("comprehension", ada), {"item-1": TASK["answer"]})

    assert response.url == url("question", ada)
    ada.refresh_from_db()
    assert ada.comprehension_passed_at is not None
    attempts = list(ComprehensionAnswer.objects.values_list("number", "choice", "correct"))
    assert attempts == [
        (1, "Name the object", False),
        (2, READING["answer"], True),
        (1, TASK["answer"], True),
    ]
    assert ComprehensionAnswer.objects.first().prompt == TASK["prompt"]


def test_a_missing_or_unknown_answer_is_refused_and_nothing_is_stored(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)

    missing = client.post(url("comprehension", ada), {"item-1": TASK["answer"]})
    unknown = client.post(url("comprehension", ada), {"item-1": TASK["answer"], "item-2": "Something else"})

    assert missing.status_code == 400 and "Please answer every question" in missing.content.decode()
    assert TASK["answer"] in missing.content.decode()  # the answer given is kept on the page
    assert unknown.status_code == 400 and "is not a choice of question 2" in unknown.content.decode()
    assert not ComprehensionAnswer.objects.exists()


def test_a_condition_without_comprehension_questions_goes_straight_to_the_questions() -> None:
    ada = start(make_study())

    participant_intro_seen(participant=ada)

    assert participant_step(ada) == Step.QUESTION


def test_the_service_refuses_an_incomplete_attempt(study: Study) -> None:
    ada = start(study)
    participant_intro_seen(participant=ada)

    with pytest.raises(ComprehensionIncomplete):
        comprehension_answer(participant=ada, choices={1: TASK["answer"]})

    assert comprehension_answer(participant=ada, choices={1: TASK["answer"], 2: READING["answer"]}) is True
    assert comprehension_answer(participant=ada, choices={}) is True  # a repeated submit changes nothing
    assert ComprehensionAnswer.objects.count() == 2
