"""The participant API contract: what load tools and other clients may rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from survey.api import api_not_found
from survey.models import CANT_TELL, Answer, Explanation, Participant, Study
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, answer_current, last_seen_minutes_ago, start

pytestmark = pytest.mark.django_db

UNKNOWN_TOKEN = "NoSuchToken_0123456789abcdefXYZ-"  # shaped like a token, belongs to nobody


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def study() -> Study:
    return make_study()


def start_url(slug: str) -> str:
    return reverse("survey_api:participant-start", kwargs={"slug": slug})


def next_url(token: str) -> str:
    return reverse("survey_api:participant-next", kwargs={"token": token})


def answers_url(token: str) -> str:
    return reverse("survey_api:answer-submit", kwargs={"token": token})


def test_starting_returns_a_token_the_condition_and_the_number_of_questions(client, study) -> None:
    response = client.post(start_url(study.slug), {"prolific_pid": "PID-1"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "condition", "total"}
    assert (body["condition"], body["total"]) == ("gradcam", 30)
    participant = Participant.objects.get(token=body["token"])
    assert participant.prolific_pid_hash and "PID-1" not in participant.prolific_pid_hash


def test_starting_needs_no_body(client, study) -> None:
    assert client.post(start_url(study.slug), format="json").status_code == 201


def test_starting_in_an_unknown_study_is_404_with_a_message(client) -> None:
    response = client.post(start_url("nope"), {}, format="json")

    assert response.status_code == 404
    assert response.json() == {"message": "There is no study 'nope'."}


def test_starting_in_a_closed_study_is_refused_with_a_message(client) -> None:
    make_study(status=Study.Status.CLOSED)

    response = client.post(start_url("pv-vs-gradcam"), {}, format="json")

    assert response.status_code == 409
    assert response.json() == {"message": "This study is closed."}
    assert not Participant.objects.exists()


def test_starting_with_an_overlong_external_id_is_400(client, study) -> None:
    response = client.post(start_url(study.slug), {"prolific_pid": "x" * 201}, format="json")

    assert response.status_code == 400
    assert "prolific_pid" in response.json()["message"]
    assert not Participant.objects.exists()


def test_next_gives_the_current_question_with_absolute_media_urls(client, study) -> None:
    ada = start(study)

    body = client.get(next_url(ada.token)).json()

    assert set(body) == {"question", "position", "total", "image", "explanation", "options"}
    assert (body["question"], body["position"], body["total"]) == (ada.question_order[0], 1, 30)
    assert body["image"].startswith("http://testserver/media/studies/images/")
    assert body["explanation"].startswith("http://testserver/media/studies/explanations/")
    assert len(body["options"]) == 5
    assert body["options"][-1] == {"id": CANT_TELL, "label": "I just can't tell"}


def test_the_media_urls_serve_the_images_with_long_cache_headers(client, study) -> None:
    ada = start(study)
    image = client.get(next_url(ada.token)).json()["image"]

    response = client.get(image.removeprefix("http://testserver"))

    assert response.status_code == 200
    assert "max-age=31536000" in response["Cache-Control"]


def test_next_says_done_with_the_completion_code_at_the_end(client, study) -> None:
    ada = start(study)
    answer_all(ada)

    assert client.get(next_url(ada.token)).json() == {"done": True, "completion_code": "C0MPL3TE"}


def test_next_includes_the_redirect_url_when_the_study_has_one(client, study) -> None:
    study.completion_redirect_url = "https://app.prolific.com/submissions/complete?cc=C0MPL3TE"
    study.save()
    ada = start(study)
    answer_all(ada)

    body = client.get(next_url(ada.token)).json()

    assert body["redirect_url"] == "https://app.prolific.com/submissions/complete?cc=C0MPL3TE"


def test_next_for_an_unknown_token_is_404(client) -> None:
    response = client.get(next_url(UNKNOWN_TOKEN))

    assert response.status_code == 404
    assert response.json() == {"message": "Unknown participant token."}


@pytest.mark.parametrize("token", ["ab%00cd", "ab%00cdefghijklmnopqrstuvwxyz", "short", "x" * 65, "a.b" * 8])
def test_a_token_that_cannot_be_one_is_404_and_never_reaches_the_database(client, token) -> None:
    next_response = client.get(f"/api/participants/{token}/next/")
    answer_response = client.post(
        f"/api/participants/{token}/answers/", {"question": 1, "option": CANT_TELL}, format="json"
    )

    assert (next_response.status_code, answer_response.status_code) == (404, 404)


def test_next_in_a_study_that_lost_an_explanation_never_answers_null(client) -> None:
    # Readiness forbids it; should it happen anyway the contract still says "explanation": null.
    study = make_study(n_correct=1, n_wrong=0)
    ada = start(study)
    Explanation.objects.filter(condition=ada.condition).delete()

    body = client.get(next_url(ada.token)).json()

    assert body["explanation"] is None and body["image"].startswith("http://testserver/media/")


def test_next_for_a_participant_who_went_quiet_too_long_is_409(client, study) -> None:
    ada = start(study)
    last_seen_minutes_ago(ada, 24 * 60)

    response = client.get(next_url(ada.token))

    assert response.status_code == 409
    assert "left the study" in response.json()["message"]


def test_an_answer_is_created_then_repeating_it_is_ok(client, study) -> None:
    ada = start(study)
    question = client.get(next_url(ada.token)).json()
    payload = {"question": question["question"], "option": question["options"][0]["id"]}

    first = client.post(answers_url(ada.token), payload, format="json")
    again = client.post(answers_url(ada.token), payload, format="json")

    assert first.status_code == 201
    assert first.json()["position"] == 1
    assert again.status_code == 200
    assert Answer.objects.count() == 1
    assert client.get(next_url(ada.token)).json()["position"] == 2


def test_a_different_answer_to_an_answered_question_is_409(client, study) -> None:
    ada = start(study)
    question = client.get(next_url(ada.token)).json()
    client.post(
        answers_url(ada.token), {"question": question["question"], "option": CANT_TELL}, format="json"
    )

    response = client.post(
        answers_url(ada.token),
        {"question": question["question"], "option": question["options"][0]["id"]},
        format="json",
    )

    assert response.status_code == 409
    assert "cannot be changed" in response.json()["message"]
    assert Answer.objects.get().option == CANT_TELL


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"question": "first", "option": CANT_TELL},
        {"question": 1},
        {"option": CANT_TELL},
        {"question": 1, "option": ""},
        {"question": 1, "option": "x" * 101},
        {"question": 0, "option": CANT_TELL},
        {"question": 2**63, "option": CANT_TELL},
        {"question": 10**30, "option": CANT_TELL},
    ],
    ids=[
        "empty",
        "question-not-a-number",
        "no-option",
        "no-question",
        "blank-option",
        "overlong-option",
        "question-zero",
        "question-past-64-bits",
        "question-huge",
    ],
)
def test_malformed_answers_are_400_and_store_nothing(client, study, payload) -> None:
    ada = start(study)

    response = client.post(answers_url(ada.token), payload, format="json")

    assert response.status_code == 400
    assert response.json()["message"]
    assert not Answer.objects.exists()


def test_validation_errors_say_which_field_is_wrong(client, study) -> None:
    ada = start(study)

    response = client.post(answers_url(ada.token), {"question": 2**63, "option": CANT_TELL}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"message", "errors"}
    assert "question" in response.json()["errors"]


def test_a_null_body_is_refused_as_no_data_per_field(client, study) -> None:
    ada = start(study)

    response = client.post(answers_url(ada.token), "null", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["No data provided"]}


def test_a_malformed_answer_leaves_nothing_behind_for_the_next_request(client, study) -> None:
    # The input serializer is built once per process: one request's errors or data must not leak.
    ada, bob = start(study), start(study)
    refused = client.post(answers_url(ada.token), {"question": "first"}, format="json")
    question = client.get(next_url(bob.token)).json()["question"]

    stored = client.post(answers_url(bob.token), {"question": question, "option": CANT_TELL}, format="json")
    again = client.post(answers_url(ada.token), {"option": CANT_TELL}, format="json")

    assert refused.status_code == 400
    assert stored.status_code == 201
    assert stored.json()["question"] == question
    assert again.status_code == 400
    assert set(again.json()["errors"]) == {"question"}


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "text/html,application/xhtml+xml"])
def test_the_participant_api_answers_json_whatever_the_client_accepts(client, study, accept) -> None:
    ada = start(study)

    found = client.get(next_url(ada.token), HTTP_ACCEPT=accept)
    refused = client.post(answers_url(ada.token), {"question": "first"}, format="json", HTTP_ACCEPT=accept)
    missing = client.get(next_url(UNKNOWN_TOKEN), HTTP_ACCEPT=accept)

    for response, status in ((found, 200), (refused, 400), (missing, 404)):
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        assert response.json()


def _refused(kind: str, ada: Participant, answered: Answer) -> dict[str, object]:
    """An answer the API refuses, of the given kind, from a participant who answered once."""
    changed = next(option for option in answered.option_order if option != answered.option)
    return {
        "malformed": {"question": "first", "option": CANT_TELL},
        "wrong-question": {"question": ada.question_order[5], "option": CANT_TELL},
        "foreign-option": {"question": ada.question_order[1], "option": "unicorn"},
        "changed-answer": {"question": answered.question_id, "option": changed},
    }[kind]


@pytest.mark.parametrize("kind", ["malformed", "wrong-question", "foreign-option", "changed-answer"])
def test_a_refused_answer_writes_nothing_not_even_when_the_participant_was_seen(client, study, kind) -> None:
    ada = start(study)
    payload = _refused(kind, ada, answer_current(ada).answer)
    last_seen_minutes_ago(ada, 5)
    before = Participant.objects.values().get(pk=ada.pk)

    response = client.post(answers_url(ada.token), payload, format="json")

    assert response.status_code in {400, 409}
    assert Participant.objects.values().get(pk=ada.pk) == before
    assert Answer.objects.filter(participant=ada).count() == 1


def test_a_refused_answer_does_not_mark_a_quiet_participant_abandoned(client, study) -> None:
    ada = start(study)
    last_seen_minutes_ago(ada, 24 * 60)
    before = Participant.objects.values().get(pk=ada.pk)

    response = client.post(answers_url(ada.token), {"question": "first"}, format="json")

    assert response.status_code == 400
    assert Participant.objects.values().get(pk=ada.pk) == before
    assert before["status"] == Participant.Status.IN_PROGRESS


def test_a_stored_answer_records_when_the_participant_was_seen(client, study) -> None:
    ada = start(study)
    question = client.get(next_url(ada.token)).json()["question"]
    last_seen_minutes_ago(ada, 5)

    client.post(answers_url(ada.token), {"question": question, "option": CANT_TELL}, format="json")

    ada.refresh_from_db()
    assert timezone.now() - ada.last_seen_at < timedelta(minutes=1)


def test_a_body_that_is_not_json_is_400(client, study) -> None:
    ada = start(study)

    response = client.post(answers_url(ada.token), "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_an_option_of_another_question_is_400(client, study) -> None:
    ada = start(study)
    current = client.get(next_url(ada.token)).json()
    offered = {option["id"] for option in current["options"]}
    foreign = next(label for label in study.classes if label not in offered)

    response = client.post(
        answers_url(ada.token), {"question": current["question"], "option": foreign}, format="json"
    )

    assert response.status_code == 400
    assert "is not one of the options" in response.json()["message"]
    assert not Answer.objects.exists()


def test_an_answer_to_a_question_that_is_not_current_is_400(client, study) -> None:
    ada = start(study)

    response = client.post(
        answers_url(ada.token), {"question": ada.question_order[4], "option": CANT_TELL}, format="json"
    )

    assert response.status_code == 400
    assert "not your current question" in response.json()["message"]
    assert not Answer.objects.exists()


def test_answering_with_an_unknown_token_is_404(client) -> None:
    response = client.post(answers_url(UNKNOWN_TOKEN), {"question": 1, "option": CANT_TELL}, format="json")

    assert response.status_code == 404
    assert response.json()["message"] == "Unknown participant token."


def test_a_participant_who_left_cannot_answer_409(client, study) -> None:
    ada = start(study)
    Participant.objects.filter(pk=ada.pk).update(status=Participant.Status.ABANDONED)

    response = client.post(
        answers_url(ada.token), {"question": ada.question_order[0], "option": CANT_TELL}, format="json"
    )

    assert response.status_code == 409
    assert "answers so far are kept" in response.json()["message"]
    assert not Answer.objects.exists()


def test_a_finished_participant_cannot_add_an_answer_409(client, study) -> None:
    ada = start(study)
    answer_all(ada)
    last = Answer.objects.get(participant=ada, position=30)
    other = next(option for option in last.option_order if option != last.option)

    response = client.post(
        answers_url(ada.token), {"question": last.question_id, "option": other}, format="json"
    )

    assert response.status_code == 409
    assert "already completed" in response.json()["message"]


def test_a_whole_survey_through_the_api(client, study) -> None:
    token = client.post(start_url(study.slug), {}, format="json").json()["token"]
    statuses = []
    while "question" in (step := client.get(next_url(token)).json()):
        answer = {"question": step["question"], "option": step["options"][0]["id"]}
        statuses.append(client.post(answers_url(token), answer, format="json").status_code)

    assert statuses == [201] * 30
    assert step == {"done": True, "completion_code": "C0MPL3TE"}
    assert Participant.objects.get(token=token).status == Participant.Status.COMPLETED


def test_the_participant_endpoints_need_no_login_and_no_csrf_token(study) -> None:
    client = APIClient(enforce_csrf_checks=True)

    response = client.post(start_url(study.slug), {}, format="json")

    assert response.status_code == 201


def test_an_unknown_api_path_gets_a_json_404() -> None:
    request = RequestFactory().get("/api/no/such/thing/")

    response = api_not_found(request)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"message": "Not found: /api/no/such/thing/"}'
