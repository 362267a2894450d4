"""What one participant request costs the database: statements (transaction control included), and
which study content a server process keeps in memory rather than reading again."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from survey.models import Participant, Question, Study
from tests.factories import make_study
from tests.survey.helpers_checks import instructed_add

pytestmark = pytest.mark.django_db

# Statements per request, BEGIN/COMMIT/SAVEPOINT included, as they stand (the budget is 4 and 5, and one
# more on pages). Fetching: the participant's row, and one UPDATE that records the visit and starts the
# question's clock. Answering: the row, then BEGIN, the guarded UPDATE, the INSERT and COMMIT. The pages
# cost the same: only the participant's own link reads the session.
API_NEXT = 2
API_ANSWER = 5
PAGE_QUESTION = API_NEXT
PAGE_ANSWER = API_ANSWER
# A start: the study by its slug, then BEGIN, the UPDATE that takes the study's turn (and locks its row),
# the participant's INSERT and COMMIT. The study's content comes from memory.
API_START = 5


@pytest.fixture
def study() -> Study:
    return make_study()


def api_start(client: APIClient, study: Study) -> str:
    response = client.post(f"/api/studies/{study.slug}/participants/", {}, format="json")
    return response.json()["token"]


def api_next(client: APIClient, token: str) -> dict:
    return client.get(f"/api/participants/{token}/next/").json()


def api_answer(client: APIClient, token: str, step: dict) -> int:
    body = {"question": step["question"], "option": step["options"][0]["id"], **_role(step)}
    return client.post(f"/api/participants/{token}/answers/", body, format="json").status_code


def _role(step: dict) -> dict:
    return {"role": step["role"]} if "role" in step else {}


def test_every_api_question_costs_2_statements_to_fetch_and_5_to_answer(
    study, django_assert_max_num_queries
) -> None:
    client = APIClient()
    token = api_start(client, study)
    api_answer(client, token, api_next(client, token))  # the first request reads the study's content
    for _ in range(29):
        with django_assert_max_num_queries(API_NEXT):
            step = api_next(client, token)
        with django_assert_max_num_queries(API_ANSWER):
            assert api_answer(client, token, step) == 201
    with django_assert_max_num_queries(API_NEXT):
        assert api_next(client, token)["done"]


def test_a_start_costs_5_statements_and_holds_the_study_for_only_the_insert(study) -> None:
    client = APIClient()
    api_start(client, study)  # the first start reads the study's content
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            assert api_start(client, study)
        statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
        assert len(statements) <= API_START
        turn = statements.index("UPDATE")  # the lock on the study's row, from here to COMMIT
        assert statements[turn:-1] == ["UPDATE", "INSERT"]  # then COMMIT (a savepoint's RELEASE in tests)


def test_a_start_after_a_content_change_reads_the_content_before_it_takes_the_lock(study) -> None:
    client = APIClient()
    api_start(client, study)
    condition = study.conditions.first()
    condition.name = "Renamed"
    condition.save()  # a new content version: this process has not read it yet

    with CaptureQueriesContext(connection) as captured:
        assert api_start(client, study)

    statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    turn = statements.index("UPDATE")
    assert "SELECT" in statements[:turn]  # the new content, read before the turn
    assert statements[turn:-1] == ["UPDATE", "INSERT"]


def test_an_attention_check_costs_no_more_than_a_question(study, django_assert_max_num_queries) -> None:
    instructed_add(study, position=1)
    client = APIClient()
    token = api_start(client, study)
    api_answer(client, token, api_next(client, token))
    with django_assert_max_num_queries(API_NEXT):
        step = api_next(client, token)
    assert step["role"] == "attention"
    with django_assert_max_num_queries(API_ANSWER):
        assert api_answer(client, token, step) == 201


def test_a_page_question_costs_no_more_statements_than_the_api(study, django_assert_max_num_queries) -> None:
    client = Client()
    landing = reverse("survey:landing", kwargs={"slug": study.slug})
    response = client.post(landing, {"consent": "on"}, follow=True)
    response = client.post(response.redirect_chain[-1][0], follow=True)  # past the introduction
    for _ in range(5):
        upcoming = response.context["upcoming"]
        answer = {"question": upcoming.question.pk, "option": upcoming.options[0][0]}
        with django_assert_max_num_queries(PAGE_ANSWER):
            posted = client.post(response.request["PATH_INFO"], answer)
        assert posted.status_code == 302
        with django_assert_max_num_queries(PAGE_QUESTION):
            response = client.get(posted.url)
        assert response.status_code == 200


def test_api_calls_write_no_session_and_set_no_cookie(study) -> None:
    client = APIClient()
    token = api_start(client, study)
    step = api_next(client, token)
    response = client.post(
        f"/api/participants/{token}/answers/",
        {"question": step["question"], "option": step["options"][0]["id"]},
        format="json",
    )

    assert response.status_code == 201
    assert not client.cookies
    assert not Session.objects.exists()


def test_a_question_changed_in_a_running_study_is_served_as_changed(study) -> None:
    client = APIClient()
    token = api_start(client, study)
    question = Question.objects.get(pk=api_next(client, token)["question"])  # now kept in memory

    question.options = ["cat", "dog", "sofa", "chair"]
    question.save()

    labels = {option["id"] for option in api_next(client, token)["options"]}
    assert labels == {"cat", "dog", "sofa", "chair", "cant_tell"}


def test_a_changed_explanation_is_served_as_changed(study) -> None:
    client = APIClient()
    token = api_start(client, study)
    step = api_next(client, token)
    condition = Participant.objects.get(token=token).condition
    explanation = Question.objects.get(pk=step["question"]).explanations.get(condition=condition)

    explanation.image.name = "studies/explanations/replaced.png"
    explanation.save()

    assert api_next(client, token)["explanation"].endswith("/replaced.png")
