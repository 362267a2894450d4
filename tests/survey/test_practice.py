"""Practice questions: after the comprehension check, the model's prediction as feedback; never counted."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from survey.models import Answer, ExtraAnswer, Participant, Study
from survey.selectors.participants import Step, participant_step
from tests.factories import make_study
from tests.survey.helpers_checks import practice_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study()
    practice_add(study, 2)
    return study


def url(name: str, participant: Participant) -> str:
    return reverse(f"survey:{name}", kwargs={"slug": participant.study.slug, "token": participant.token})


def past_intro(client: Client, study: Study) -> Participant:
    client.post(reverse("survey:landing", kwargs={"slug": study.slug}), {"consent": "on"})
    participant = Participant.objects.get()
    client.post(url("intro", participant))
    return participant


def shown(response) -> int:
    return int(response.content.decode().split('name="question" value="')[1].split('"')[0])


def test_practice_comes_before_the_questions_and_looks_like_one(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)

    response = client.get(url("question", ada))
    page = client.get(url("practice", ada)).content.decode()

    assert response.url == url("practice", ada)
    assert "Practice question 1 of 2" in page and page.count("<h1") == 1
    assert page.count('type="radio" name="option"') == 5
    assert "<legend>What is the model's prediction?</legend>" in page


def test_feedback_shows_the_models_prediction_beside_the_guess(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    first = shown(client.get(url("practice", ada)))

    response = client.post(url("practice", ada), {"question": first, "option": "dog"})
    feedback = client.get(response.url).content.decode()

    assert response.url == url("feedback", ada)
    assert "Not quite: the model predicted “cat”" in feedback
    assert "You guessed" in feedback and "dog" in feedback
    assert "Next practice question" in feedback
    answer = ExtraAnswer.objects.get()
    assert (answer.option, answer.correct, answer.position) == ("dog", False, 1)


def test_after_the_last_practice_the_questions_begin_and_nothing_was_counted(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    for _ in range(2):
        client.post(
            url("practice", ada), {"question": shown(client.get(url("practice", ada))), "option": "cat"}
        )

    feedback = client.get(url("feedback", ada)).content.decode()
    questions = client.get(url("resume", ada))

    assert "Right: you guessed what the model predicted" in feedback
    assert "the model was <strong>wrong</strong>" in feedback  # the second practice image fooled it
    assert "Start the questions" in feedback
    assert questions.url == url("question", ada)
    ada.refresh_from_db()
    assert participant_step(ada) == Step.QUESTION
    assert ExtraAnswer.objects.count() == 2 and not Answer.objects.exists()
    assert "Question 1 of 30" in client.get(url("question", ada)).content.decode()


def test_a_practice_answer_cannot_be_changed_or_given_out_of_turn(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    first = shown(client.get(url("practice", ada)))
    second = study.extra_questions.exclude(pk=first).get().pk

    out_of_turn = client.post(url("practice", ada), {"question": second, "option": "cat"}, follow=True)
    client.post(url("practice", ada), {"question": first, "option": "cat"})
    changed = client.post(url("practice", ada), {"question": first, "option": "dog"}, follow=True)

    assert "not your current practice question" in out_of_turn.content.decode()
    assert "answers cannot be changed" in changed.content.decode()
    assert list(ExtraAnswer.objects.values_list("question_id", "option")) == [(first, "cat")]


def test_a_practice_page_without_a_choice_says_so_by_the_button(study: Study) -> None:
    client = Client()
    ada = past_intro(client, study)
    first = shown(client.get(url("practice", ada)))

    response = client.post(url("practice", ada), {"question": first})

    page = response.content.decode()
    assert response.status_code == 400
    assert page.index("Please choose one of the options") < page.index("Check my guess")
    assert not ExtraAnswer.objects.exists()
