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
