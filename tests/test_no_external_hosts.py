"""No page the platform serves loads anything from another host: every page is rendered and scanned.

The browser test (tests/survey/test_researcher_browser.py) checks the same of what a real browser requests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from survey.models import Participant
from tests.explainers.helpers import TinyWorld, tiny_job_create, tiny_world
from tests.factories import make_study

pytestmark = pytest.mark.django_db

URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+(?::\d+)?""")
# XML namespaces name a vocabulary; nothing is fetched from them.
NAMESPACES = re.compile(r"""xmlns(?::\w+)?=["']http://www\.w3\.org/[^"']*["']""")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> TinyWorld:
    return tiny_world(tmp_path_factory.getbasetemp() / "tiny-world")


def other_hosts(html: str) -> set[str]:
    found = set(URL.findall(NAMESPACES.sub("", html)))
    return {url for url in found if url.split("//", 1)[1].split(":")[0] not in {"testserver"}}


def participant_pages(client: Client, slug: str) -> list[str]:
    landing = f"/s/{slug}/"
    pages = [landing]
    started = client.post(landing, {"consent": "on"})
    token = started.url.split("/p/")[1].split("/")[0]
    pages += [f"/s/{slug}/p/{token}/intro/", f"/s/{slug}/p/{token}/leave/"]
    client.post(f"/s/{slug}/p/{token}/intro/")
    pages.append(f"/s/{slug}/p/{token}/question/")
    return pages


def test_no_page_references_another_host(
    client: Client, admin_client: Client, world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    study = make_study(n_correct=1, n_wrong=1)
    with django_capture_on_commit_callbacks(execute=False):  # the page of a job, not its render
        job = tiny_job_create(world, output_dir=tmp_path / "out")
    staff_pages = [
        "/",
        reverse("admin:index"),
        reverse("admin:survey_study_changelist"),
        reverse("admin:survey_study_change", args=[study.pk]),
        reverse("admin:survey_study_import"),
        reverse("admin:survey_study_duplicate", args=[study.pk]),
        reverse("admin:survey_participant_changelist"),
        reverse("admin:survey_question_changelist"),
        reverse("admin:explainers_checkpoint_add"),
        reverse("admin:explainers_renderjob_changelist"),
        reverse("admin:explainers_renderjob_change", args=[job.pk]),
        reverse("admin:explainers_renderjob_build"),
        reverse("analysis-study-results", kwargs={"slug": study.slug}),
        "/api/docs/",
        "/api/redoc/",
    ]
    public_pages = ["/", "/admin/login/", *participant_pages(client, study.slug)]
    participant = Participant.objects.get()
    public_pages.append(f"/s/{study.slug}/p/{participant.token}/done/")

    seen = {}
    for who, pages in ((admin_client, staff_pages), (client, public_pages)):
        for page in pages:
            response = who.get(page, follow=True)
            assert response.status_code == 200, page
            seen[page] = other_hosts(response.content.decode())

    assert {page: hosts for page, hosts in seen.items() if hosts} == {}
