"""Abuse controls: starts are JSON only and limited per client; logins lock out by username."""

from __future__ import annotations

import base64

import pytest
from axes.models import AccessAttempt, AccessLog
from django.core.cache import cache
from django.test import Client

from survey.models import Participant
from tests.factories import make_study

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-researcher-password"


def start(client: Client, slug: str, address: str = "203.0.113.7") -> int:
    url = f"/api/studies/{slug}/participants/"
    return client.post(url, "{}", content_type="application/json", REMOTE_ADDR=address).status_code


def cached_text() -> str:
    """Everything the local-memory cache holds, keys and values, as text."""
    return repr(list(cache._cache.items()))


def test_a_cross_site_form_post_starts_nobody() -> None:
    study = make_study()

    response = Client().post(f"/api/studies/{study.slug}/participants/", {"prolific_pid": "x"})

    assert response.status_code == 415
    assert "message" in response.json()
    assert Participant.objects.count() == 0


def test_a_client_past_the_start_rate_gets_429_with_retry_after_and_starts_nobody_more(settings) -> None:
    settings.SURVEY_START_RATE = "3/m"
    study = make_study()
    client = Client()

    statuses = [start(client, study.slug) for _ in range(4)]
    refused = client.post(
        f"/api/studies/{study.slug}/participants/",
        "{}",
        content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
    )

    assert statuses == [201, 201, 201, 429]
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "message" in refused.json()
    assert Participant.objects.count() == 3


def test_each_client_has_its_own_count_and_no_address_is_kept(settings) -> None:
    settings.SURVEY_START_RATE = "1/m"
    study = make_study()

    first, second = start(Client(), study.slug, "203.0.113.7"), start(Client(), study.slug, "198.51.100.9")

    assert (first, second) == (201, 201)
    assert "203.0.113.7" not in cached_text() and "198.51.100.9" not in cached_text()


def test_behind_a_proxy_the_address_comes_from_the_header_it_sets(settings) -> None:
    settings.SURVEY_START_RATE = "1/m"
    settings.CLIENT_ADDRESS_HEADER = "X-Real-IP"
    study = make_study()
    url = f"/api/studies/{study.slug}/participants/"

    def start_behind_proxy(address: str) -> int:
        response = Client().post(
            url, "{}", content_type="application/json", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP=address
        )
        return response.status_code

    statuses = [start_behind_proxy(address) for address in ("203.0.113.7", "198.51.100.9", "203.0.113.7")]

    assert statuses == [201, 201, 429]


@pytest.fixture
def researcher(django_user_model):
    return django_user_model.objects.create_user("researcher", password=PASSWORD, is_staff=True)


def admin_login(password: str, address: str = "203.0.113.7") -> int:
    response = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "researcher", "password": password},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT="Browser/1.0",
    )
    return response.status_code


def test_an_admin_username_locks_out_after_five_failures_whatever_the_address(researcher, settings) -> None:
    failures = [admin_login("wrong", address=f"203.0.113.{n}") for n in range(5)]

    assert failures == [200] * 4 + [429]  # the login form again, then axes' lockout
    assert admin_login(PASSWORD, address="198.51.100.9") == 429
    assert AccessAttempt.objects.count() == AccessLog.objects.count() == 0
    assert "203.0.113" not in cached_text() and "Browser/1.0" not in cached_text()


def test_a_right_password_before_the_limit_clears_the_failures(researcher) -> None:
    assert [admin_login("wrong") for _ in range(4)] == [200] * 4
    assert admin_login(PASSWORD) == 302
    assert [admin_login("wrong") for _ in range(4)] == [200] * 4


def test_basic_auth_on_the_api_locks_out_by_username_too(researcher) -> None:
    def results(password: str) -> int:
        credentials = base64.b64encode(f"researcher:{password}".encode()).decode()
        response = Client().get("/api/studies/nope/results/", HTTP_AUTHORIZATION=f"Basic {credentials}")
        return response.status_code

    failures = [results("wrong") for _ in range(5)]

    assert failures[0] in {401, 403}
    assert results(PASSWORD) in {401, 403, 429}  # locked out: the right password no longer gets in
    assert results(PASSWORD) != 404
