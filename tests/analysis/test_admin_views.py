"""The results page in the admin, as a researcher (staff) and an outsider see it."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from analysis.responses import responses_write
from analysis.services import study_responses
from tests.analysis.builders import make_scenario
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def results_url(slug: str) -> str:
    return reverse("analysis-study-results", kwargs={"slug": slug})


def test_the_page_lives_under_the_admin() -> None:
    assert results_url("pv-vs-gradcam") == "/admin/analysis/study/pv-vs-gradcam/results/"


def test_a_researcher_sees_table_1_tests_dropout_questions_and_figures(admin_client: Client) -> None:
    response = admin_client.get(results_url(make_scenario().slug))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Table 1." in page
    assert "<td>16.7% ± 16.7%</td>" in page
    assert "U(GRADCAM) = 0" in page
    assert '<th scope="row">q004</th>' in page
    assert page.count('src="data:image/png;base64,') == 2
    assert 'id="site-name"' in page  # the admin's own header: rendered inside the admin base template


def test_a_study_without_answers_says_so(admin_client: Client) -> None:
    response = admin_client.get(results_url(make_study(slug="fresh", n_correct=1, n_wrong=1).slug))
    assert response.status_code == 200
    page = response.content.decode()
    assert "No completed participants yet." in page
    assert "data:image/png" not in page
    assert "No answers yet." in page


def test_options_in_the_query_change_the_analysis(admin_client: Client) -> None:
    page = admin_client.get(results_url(make_scenario().slug), {"min_answers": 2}).content.decode()
    assert "PV (n=3)" in page


def test_a_bad_option_is_shown_and_the_defaults_still_give_a_page(admin_client: Client) -> None:
    response = admin_client.get(results_url(make_scenario().slug), {"min_answers": "0"})
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert "PV (n=2)" in response.content.decode()


def test_an_unknown_study_is_not_found(admin_client: Client) -> None:
    assert admin_client.get(results_url("nope")).status_code == 404


def test_an_outsider_is_sent_to_the_admin_login(client: Client, django_user_model) -> None:
    django_user_model.objects.create_user(username="outsider", password="pw-outsider-123")
    client.login(username="outsider", password="pw-outsider-123")
    response = client.get(results_url(make_scenario().slug))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_responses_file_downloads_as_export_writes_it(admin_client: Client) -> None:
    study = make_scenario()
    response = admin_client.get(reverse("analysis-study-responses", kwargs={"slug": study.slug}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="scenario-responses.csv"'
    expected = io.StringIO()
    responses_write(study_responses(study=study), expected)
    assert response.content.decode() == expected.getvalue()


def responses_url(slug: str) -> str:
    return reverse("analysis-study-responses", kwargs={"slug": slug})


def researcher(django_user_model, *permissions: str) -> AbstractBaseUser:
    """Staff, with only these of the survey's permissions."""
    user = django_user_model.objects.create_user(username="researcher", password="pw", is_staff=True)
    granted = Permission.objects.filter(content_type__app_label="survey", codename__in=permissions)
    assert granted.count() == len(permissions)
    user.user_permissions.set(granted)
    return user


def test_staff_without_leave_to_view_participants_cannot_download_responses(
    client: Client, django_user_model
) -> None:
    client.force_login(researcher(django_user_model, "view_study"))
    study = make_scenario()
    assert client.get(responses_url(study.slug)).status_code == 403
    assert "Download responses" not in client.get(results_url(study.slug)).content.decode()


def test_staff_who_may_view_participants_download_pseudonyms_not_tokens(
    client: Client, django_user_model
) -> None:
    client.force_login(researcher(django_user_model, "view_participant"))
    study = make_scenario()
    assert "Download responses" in client.get(results_url(study.slug)).content.decode()
    response = client.get(responses_url(study.slug))
    assert response.status_code == 200
    body = response.content.decode()
    assert not [token for token in study.participants.values_list("token", flat=True) if token in body]
