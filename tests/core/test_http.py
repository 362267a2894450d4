"""Errors outside any view: JSON with a message under /api/, pages elsewhere."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from core.http import csrf_failure, server_error
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def test_an_oversized_api_body_is_a_json_413_and_starts_nobody(settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    study = make_study()
    body = json.dumps({"prolific_pid": "x" * 2000})

    url = f"/api/studies/{study.slug}/participants/"
    response = Client().post(url, body, content_type="application/json")

    assert response.status_code == 413
    assert "1024" not in response.json()["message"]  # said in MiB, for people
    assert "larger than" in response.json()["message"]
    assert study.participants.count() == 0


def test_an_oversized_form_on_a_page_is_a_413_not_a_400(settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    study = make_study()

    response = Client().post(f"/s/{study.slug}/", {"field": "x" * 2000})

    assert response.status_code == 413


def test_a_post_to_an_unknown_api_path_is_a_json_404_not_a_csrf_page() -> None:
    response = Client(enforce_csrf_checks=True).post("/api/no-such-thing/", {"a": "b"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "message" in response.json()


def test_a_csrf_refusal_under_the_api_is_json_and_elsewhere_a_page() -> None:
    factory = RequestFactory()

    api = csrf_failure(factory.post("/api/anything/"), reason="CSRF cookie not set.")
    page = csrf_failure(factory.post("/s/study/"), reason="CSRF cookie not set.")

    assert api.status_code == page.status_code == 403
    assert json.loads(api.content) == {"message": "Forbidden (CSRF check failed: CSRF cookie not set.)"}
    assert page["Content-Type"].startswith("text/html")


def test_a_database_error_is_a_503_with_retry_after_in_json_under_the_api() -> None:
    request = RequestFactory().get("/api/participants/x/next/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "message" in json.loads(response.content)


def test_a_database_error_on_a_page_is_a_friendly_503_that_links_back_to_the_same_place() -> None:
    request = RequestFactory().get("/s/study/p/sometoken_0123456789/question/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert 'href="/s/study/p/sometoken_0123456789/question/"' in response.content.decode()
    assert "Nothing you answered is lost" in response.content.decode()


def test_any_other_server_error_under_the_api_is_a_json_500() -> None:
    request = RequestFactory().get("/api/participants/x/next/")
    try:
        raise KeyError("bug")
    except KeyError:
        response = server_error(request)

    assert response.status_code == 500
    assert "message" in json.loads(response.content)
