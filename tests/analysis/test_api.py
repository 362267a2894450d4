"""GET /api/studies/<slug>/results/: staff only, the same JSON as the command."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from analysis import api_urls
from tests.analysis.builders import make_scenario, make_scored_study
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def url(slug: str) -> str:
    return f"/api/studies/{slug}/results/"


def test_an_anonymous_visitor_is_refused(client: Client) -> None:
    response = client.get(url(make_scenario().slug))
    assert response.status_code == 403
    assert "message" in response.json()


def test_a_logged_in_non_staff_user_is_refused(client: Client, django_user_model) -> None:
    client.force_login(django_user_model.objects.create_user(username="participant-ish"))
    assert client.get(url(make_scenario().slug)).status_code == 403


def test_staff_get_the_same_json_as_the_command(admin_client: Client) -> None:
    study = make_scenario()
    response = admin_client.get(url(study.slug), {"min_answers": 2, "continuity": "true"})
    assert response.status_code == 200
    out = io.StringIO()
    call_command(
        "analyze_results", study=study.slug, format="json", min_answers=2, continuity=True, stdout=out
    )
    assert response.json() == json.loads(out.getvalue())


def test_staff_get_every_condition_the_omnibus_and_every_pair_as_the_command_prints_them(
    admin_client: Client,
) -> None:
    hits = {"gradcam": [(0, 1), (1, 1)], "pv": [(1, 0), (1, 1)], "none": [(0, 0), (1, 1)]}
    study = make_scored_study("three", hits, n_correct=1, n_wrong=1)
    body = admin_client.get(url(study.slug)).json()
    out = io.StringIO()
    call_command("analyze_results", study=study.slug, format="json", stdout=out)
    assert body == json.loads(out.getvalue())
    assert list(body["conditions"]) == ["gradcam", "pv", "none"]
    assert body["omnibus"]["correct"]["conditions"] == ["gradcam", "pv", "none"]
    assert len(body["pairwise"]) == 2 * 3
    assert set(body["pairwise"][0]) >= {"a", "b", "subset", "u", "z", "p", "p_holm"}


def test_a_study_without_answers_gives_nulls_and_a_message(admin_client: Client) -> None:
    body = admin_client.get(url(make_study(slug="fresh", n_correct=1, n_wrong=1).slug)).json()
    assert body["messages"] == ["No completed participants yet."]
    assert body["conditions"]["gradcam"]["correct"]["mean"] is None
    assert body["tests"]["correct"]["z"] is None


def test_a_single_condition_study_has_no_tests(admin_client: Client) -> None:
    body = admin_client.get(
        url(make_study(slug="alone", conditions=("pv",), n_correct=1, n_wrong=1).slug)
    ).json()
    assert body["tests"] == {}
    assert body["options"]["conditions"] == []


def test_bad_parameters_are_a_400_with_a_message(admin_client: Client) -> None:
    slug = make_scenario().slug
    response = admin_client.get(url(slug), {"min_answers": 0})
    assert response.status_code == 400
    assert "min_answers" in response.json()["message"]
    response = admin_client.get(url(slug), {"conditions": "gradcam,lime"})
    assert response.status_code == 400
    assert response.json() == {"message": "Unknown condition 'lime'; the conditions here are: gradcam, pv"}


def test_an_unknown_study_is_a_404_with_a_message(admin_client: Client) -> None:
    response = admin_client.get(url("nope"))
    assert response.status_code == 404
    assert response.json() == {"message": "No study with slug 'nope'."}


def test_the_schema_documents_the_parameters_and_the_response() -> None:
    schema = SchemaGenerator(patterns=api_urls.urlpatterns).get_schema(request=None, public=True)
    operation = schema["paths"]["/studies/{slug}/results/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"slug", "min_answers", "conditions", "alternative_incorrect", "continuity"} <= names
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StudyResults"
    )
    assert {"omnibus", "pairwise"} <= set(schema["components"]["schemas"]["StudyResults"]["properties"])
