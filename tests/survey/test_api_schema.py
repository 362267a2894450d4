"""The OpenAPI document describes the participant API."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_schema_lists_the_participant_endpoints() -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths["/api/studies/{slug}/participants/"]) >= {"post"}
    assert set(paths["/api/participants/{token}/next/"]) >= {"get"}
    assert set(paths["/api/participants/{token}/answers/"]) >= {"post"}


def test_the_schema_describes_the_answer_responses_and_errors() -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    responses = schema["paths"]["/api/participants/{token}/answers/"]["post"]["responses"]
    assert set(responses) >= {"200", "201", "400", "404", "409"}
    start = schema["paths"]["/api/studies/{slug}/participants/"]["post"]
    assert start["security"] == [{}]  # no authentication: the token is the credential
    assert "consent" in start["description"]
    components = schema["components"]["schemas"]
    assert {"ParticipantStartInput", "ParticipantStartOutput", "AnswerSubmitInput", "Error"} <= set(
        components
    )
    assert components["NextStep"]["oneOf"] == [
        {"$ref": "#/components/schemas/NextQuestionOutput"},
        {"$ref": "#/components/schemas/DoneOutput"},
    ]


def test_the_error_schema_has_a_message_and_for_validation_errors_the_details() -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"message", "errors"}
    assert error["required"] == ["message"]
    next_question = schema["components"]["schemas"]["NextQuestionOutput"]
    assert set(next_question["properties"]) == {
        "question", "position", "total", "image", "explanation", "options", "role", "instruction",
    }  # fmt: skip
    # The attention checks' fields are optional: a study question reads as it always did.
    assert {"role", "instruction"}.isdisjoint(next_question["required"])
    assert next_question["properties"]["explanation"]["nullable"] is True
    done = schema["components"]["schemas"]["DoneOutput"]
    assert set(done["properties"]) == {"done", "completion_code", "redirect_url"}
    assert done["properties"]["done"]["type"] == "boolean"


def test_the_bodies_the_api_sends_have_the_fields_the_schema_gives_them() -> None:
    from rest_framework.test import APIClient

    from tests.factories import make_study
    from tests.survey.helpers_checks import instructed_add

    study = make_study(n_correct=1, n_wrong=1)
    instructed_add(study, position=1)
    components = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    client = APIClient()
    token = client.post(f"/api/studies/{study.slug}/participants/", {}, format="json").json()["token"]
    bodies = []
    while not (step := client.get(f"/api/participants/{token}/next/").json()).get("done"):
        bodies.append(("NextQuestionOutput", step))
        answer = {"question": step["question"], "option": step["options"][0]["id"]}
        answer.update({"role": step["role"]} if "role" in step else {})
        posted = client.post(f"/api/participants/{token}/answers/", answer, format="json").json()
        bodies.append(("AnswerSubmitOutput", posted))
    bodies.append(("DoneOutput", step))

    assert {name for name, _ in bodies} == {"NextQuestionOutput", "AnswerSubmitOutput", "DoneOutput"}
    assert any(body.get("role") == "attention" for _, body in bodies)
    for name, body in bodies:
        schema = components[name]
        assert set(schema.get("required", [])) <= set(body) <= set(schema["properties"]), (name, body)
