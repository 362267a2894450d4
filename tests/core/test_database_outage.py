"""A database that goes away and comes back, on a real PostgreSQL behind a proxy the test cuts.

The shared server is never stopped: other test runs use it. The test client skips what a WSGI server
does at the end of each request (closing a broken connection), so each request here is followed by it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from survey.models import Answer, Participant
from tests.factories import make_study
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    settings_dict = connection.settings_dict
    original = (settings_dict["HOST"], settings_dict["PORT"])
    proxy = TcpProxy((original[0] or "127.0.0.1", int(original[1] or 5432)))
    proxy.start()
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", proxy.port
    yield proxy
    proxy.stop()
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = original


def request(call, *args, **kwargs):
    response = call(*args, **kwargs)
    close_old_connections()  # what the server does when the request ends
    return response


def test_an_outage_answers_503_then_service_returns_and_nothing_is_lost(proxy) -> None:
    client = APIClient(raise_request_exception=False)  # answer as a server would
    study = make_study()
    started = request(client.post, f"/api/studies/{study.slug}/participants/", {}, format="json").json()
    token = started["token"]
    question = request(client.get, f"/api/participants/{token}/next/").json()
    answer = {"question": question["question"], "option": question["options"][0]["id"]}
    stored = request(client.post, f"/api/participants/{token}/answers/", answer, format="json")
    assert stored.status_code == 201

    proxy.stop()
    api = request(client.get, f"/api/participants/{token}/next/")
    page = request(client.get, f"/s/{study.slug}/p/{token}/question/")
    refused = request(client.post, f"/api/participants/{token}/answers/", answer, format="json")

    assert (api.status_code, api["Retry-After"], "message" in api.json()) == (503, "30", True)
    assert (page.status_code, page["Retry-After"]) == (503, "30")
    assert f'href="/s/{study.slug}/p/{token}/question/"' in page.content.decode()
    assert refused.status_code == 503 and "message" in refused.json()

    proxy.start()
    after = request(client.get, f"/api/participants/{token}/next/")

    assert after.status_code == 200
    assert after.json()["question"] != question["question"]  # the stored answer still counts
    assert Answer.objects.filter(participant__token=token).count() == 1
    assert Participant.objects.count() == 1


def test_a_restart_between_requests_costs_one_503_and_the_next_request_reconnects(proxy) -> None:
    client = APIClient(raise_request_exception=False)
    study = make_study()
    token = request(client.post, f"/api/studies/{study.slug}/participants/", {}, format="json").json()[
        "token"
    ]
    assert request(client.get, f"/api/participants/{token}/next/").status_code == 200

    proxy.stop()  # the database restarts while nobody asks: the kept connection is dead
    proxy.start()
    first = request(client.get, f"/api/participants/{token}/next/")
    second = request(client.get, f"/api/participants/{token}/next/")

    assert (first.status_code, first["Retry-After"]) == (503, "30")
    assert second.status_code == 200
