"""The study page's launch panel, its monitor's data, duplication, the bundle download and the site root."""

from __future__ import annotations

import io
import statistics
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from survey.models import Condition, ConditionExample, Explanation, Participant, Question, Study
from survey.services.bundles import study_duplicate
from tests.factories import image_file, make_study
from tests.survey.test_admin import _answer, _participant, _study_form

pytestmark = pytest.mark.django_db


def _finish(participant: Participant, *, minutes: float) -> None:
    started = timezone.now() - timedelta(hours=1)
    Participant.objects.filter(pk=participant.pk).update(
        status=Participant.Status.COMPLETED,
        started_at=started,
        completed_at=started + timedelta(minutes=minutes),
        last_seen_at=started + timedelta(minutes=minutes),
    )


def test_the_study_page_shows_the_survey_link_the_prolific_template_and_the_links(
    admin_client: Client,
) -> None:
    study = make_study(n_correct=1, n_wrong=1)

    page = admin_client.get(reverse("admin:survey_study_change", args=[study.pk])).text

    assert 'value="http://testserver/s/pv-vs-gradcam/"' in page
    assert (
        "http://testserver/s/pv-vs-gradcam/?PROLIFIC_PID={{%PROLIFIC_PID%}}&amp;STUDY_ID={{%STUDY_ID%}}"
        "&amp;SESSION_ID={{%SESSION_ID%}}" in page
    )
    assert 'data-copy="#survey-link"' in page
    for url in [
        reverse("analysis-study-results", kwargs={"slug": study.slug}),
        reverse("analysis-study-responses", kwargs={"slug": study.slug}),
        reverse("admin:survey_study_export", args=[study.pk]),
        reverse("admin:survey_study_duplicate", args=[study.pk]),
        reverse("admin:survey_study_monitor", args=[study.pk]),
    ]:
        assert url in page
    assert reverse("admin:survey_study_launch", args=[study.pk, "close"]) in page


def test_a_draft_page_offers_to_open_it_and_says_what_is_missing(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)
    Explanation.objects.filter(question__key="q001", condition__key="pv").delete()
    open_url = reverse("admin:survey_study_launch", args=[study.pk, "open"])

    page = admin_client.get(reverse("admin:survey_study_change", args=[study.pk])).text
    refused = admin_client.post(open_url, follow=True)

    assert open_url in page
    assert "question q001 has no explanation for condition pv" in page
    assert "cannot open" in refused.text
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT


def test_the_open_and_close_buttons_change_the_status(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=1, n_wrong=1)

    admin_client.post(reverse("admin:survey_study_launch", args=[study.pk, "open"]))
    opened = Study.objects.get().status
    admin_client.post(reverse("admin:survey_study_launch", args=[study.pk, "close"]))

    assert (opened, Study.objects.get().status) == ("open", "closed")
    assert admin_client.get(reverse("admin:survey_study_launch", args=[study.pk, "open"])).status_code == 405
    assert (
        admin_client.post(reverse("admin:survey_study_launch", args=[study.pk, "explode"])).status_code == 403
    )


def test_the_monitor_endpoint_matches_the_database(admin_client: Client) -> None:
    study = make_study(n_correct=2, n_wrong=1)
    for minutes in (4, 10):
        _finish(_participant(study, "gradcam"), minutes=minutes)
    _finish(_participant(study, "pv"), minutes=7)
    busy = _participant(study, "pv")
    _answer(busy, 1)
    _participant(study, "pv", idle=600)  # gone quiet past the hour: abandoned
    _participant(study, "gradcam", status=Participant.Status.ABANDONED)

    data = admin_client.get(reverse("admin:survey_study_monitor", args=[study.pk])).json()

    rows = {row["key"]: row for row in data["conditions"]}
    assert [row["key"] for row in data["conditions"]] == ["gradcam", "pv"]
    for key in ("gradcam", "pv"):
        mine = Participant.objects.filter(study=study, condition__key=key)
        assert rows[key]["started"] == mine.count()
        assert rows[key]["completed"] == mine.filter(status="completed").count()
    assert (rows["gradcam"]["in_progress"], rows["gradcam"]["abandoned"]) == (0, 1)
    assert (rows["pv"]["in_progress"], rows["pv"]["abandoned"]) == (1, 1)
    assert data["total"] | {"name": ""} == {
        "key": "all", "name": "", "started": 6, "in_progress": 1, "completed": 3, "abandoned": 2,
        "completion_rate": 0.5,
    }  # fmt: skip
    assert rows["gradcam"]["completion_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert data["median_duration_seconds"] == statistics.median([240, 600, 420])
    latest = max(Participant.objects.filter(study=study).values_list("last_seen_at", flat=True))
    assert data["last_activity"] == latest.isoformat()


def test_the_monitor_of_a_study_nobody_started_says_so(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=0)
    data = admin_client.get(reverse("admin:survey_study_monitor", args=[study.pk])).json()
    assert data["total"]["completion_rate"] is None
    assert (data["median_duration_seconds"], data["last_activity"]) == (None, None)


def test_duplicating_copies_everything_but_the_participants() -> None:
    study = make_study(n_correct=2, n_wrong=1)
    study.description, study.selection, study.saliency = (
        "Help us.",
        {"rule": "paper-section-4", "seed": 3},
        "gradcam",
    )
    study.save()
    ConditionExample.objects.create(
        condition=study.conditions.get(key="pv"), image=image_file("ex.png"), caption="An example."
    )
    _answer(_participant(study, "pv"), 1)

    copy = study_duplicate(study=study, slug="pv-vs-gradcam-main")

    assert (copy.slug, copy.status, copy.name) == ("pv-vs-gradcam-main", "draft", f"{study.name} (copy)")
    assert (copy.description, copy.classes, copy.selection, copy.saliency) == (
        study.description, study.classes, study.selection, study.saliency
    )  # fmt: skip
    assert copy.completion_code and copy.completion_code != study.completion_code
    assert not copy.participants.exists() and study.participants.count() == 1
    fields = ["key", "labels", "prediction", "model_correct", "options", "order"]
    assert list(copy.questions.values_list(*fields)) == list(study.questions.values_list(*fields))
    assert list(copy.conditions.values_list("key", "name", "intro", "order")) == list(
        study.conditions.values_list("key", "name", "intro", "order")
    )
    assert [e.caption for e in ConditionExample.objects.filter(condition__study=copy)] == ["An example."]
    originals = {
        (e.question.key, e.condition.key): e.image for e in Explanation.objects.filter(question__study=study)
    }
    for explanation in Explanation.objects.filter(question__study=copy).select_related(
        "question", "condition"
    ):
        original = originals[(explanation.question.key, explanation.condition.key)]
        assert explanation.image.name != original.name  # a copy of its own, safe from the original's deletion
        assert explanation.image.read() == original.read()
    assert (
        Question.objects.filter(study=copy).count() == 3 and Condition.objects.filter(study=copy).count() == 2
    )


def test_the_duplicate_page_suggests_a_free_slug_and_makes_a_draft(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)
    url = reverse("admin:survey_study_duplicate", args=[study.pk])

    form = admin_client.get(url)
    taken = admin_client.post(url, {"slug": study.slug, "name": "Main"})
    made = admin_client.post(url, {"slug": "pv-vs-gradcam-2", "name": "Main"})

    assert 'value="pv-vs-gradcam-2"' in form.text
    assert "exists already" in taken.text
    copy = Study.objects.get(slug="pv-vs-gradcam-2")
    assert made.url == reverse("admin:survey_study_change", args=[copy.pk])
    assert (copy.name, copy.status) == ("Main", "draft")


def test_the_bundle_downloads_as_a_zip_with_study_json_and_every_image(admin_client: Client) -> None:
    study = make_study(n_correct=1, n_wrong=1)

    response = admin_client.get(reverse("admin:survey_study_export", args=[study.pk]))

    assert response["Content-Disposition"] == 'attachment; filename="pv-vs-gradcam.zip"'
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert "pv-vs-gradcam/study.json" in names
    assert len([name for name in names if name.endswith(".png")]) == 2 + 2 * 2


def test_the_site_root_lists_studies_for_staff_and_shows_others_a_plain_page(
    client: Client, admin_client: Client
) -> None:
    study = make_study(n_correct=1, n_wrong=0)

    staff = admin_client.get("/").text
    anyone = client.get("/")

    assert "http://testserver/s/pv-vs-gradcam/" in staff
    assert reverse("admin:survey_study_change", args=[study.pk]) in staff
    assert anyone.status_code == 200
    assert "open the link you were given" in anyone.text
    assert study.slug not in anyone.text


def test_a_researcher_types_the_classes_one_per_line_and_sees_them_so(admin_client: Client) -> None:
    study = make_study(status=Study.Status.DRAFT, n_correct=0, n_wrong=0)
    url = reverse("admin:survey_study_change", args=[study.pk])
    lines = "\n".join(study.classes[:-1])  # the last class, tvmonitor, is dropped

    shown = admin_client.get(url).text
    saved = admin_client.post(url, _study_form(study, classes=lines))
    repeated = admin_client.post(url, _study_form(study, classes="cat\ndog\ncat"))

    assert "aeroplane\nbicycle\nbird" in shown
    assert saved.status_code == 302
    assert Study.objects.get().classes == study.classes[:-1]
    assert "cat is listed more than once." in repeated.text


def test_a_draft_page_offers_a_preview_per_condition_and_a_pilot_that_starts(admin_client: Client) -> None:
    study = make_study(slug="piloted", status=Study.Status.DRAFT, n_correct=1, n_wrong=1)
    page = admin_client.get(reverse("admin:survey_study_change", args=[study.pk])).text

    for key in ("gradcam", "pv"):
        assert f'href="/s/piloted/preview/{key}/"' in page
    assert "Start a pilot" in page
    admin_client.post(reverse("admin:survey_study_launch", args=[study.pk, "pilot"]))
    study.refresh_from_db()
    assert study.status == Study.Status.PILOT
