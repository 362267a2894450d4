"""Anything under /api/ answers in JSON, even a path that does not exist."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404_with_a_message(client) -> None:
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert "message" in response.json()


def test_a_token_with_a_nul_byte_is_a_json_404(client) -> None:
    response = client.get("/api/participants/ab%00cd/next/")
    assert response.status_code == 404
    assert "message" in response.json()


def test_the_schema_and_the_results_endpoint_are_not_shadowed(client, admin_client) -> None:
    assert client.get("/api/schema/").status_code == 200
    response = admin_client.get("/api/studies/no-such-study/results/")
    assert response.json() == {"message": "No study with slug 'no-such-study'."}
