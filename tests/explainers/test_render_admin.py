"""The admin pages for checkpoints and render jobs, seen by a researcher (staff)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from explainers.models import Checkpoint, RenderJob
from explainers.services import render_job_fail
from tests.explainers.helpers import TinyWorld, tiny_job_create

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., object]


def failed_job(world: TinyWorld, out: Path, on_commit: OnCommit) -> RenderJob:
    with on_commit(execute=False):
        job = tiny_job_create(world, output_dir=out)
    render_job_fail(job_id=job.pk, error="WorkerLostError: the worker went away")
    return job


def test_a_researcher_adding_a_checkpoint_of_the_wrong_kind_sees_why_and_nothing_is_saved(
    admin_client: Client, world: TinyWorld
) -> None:
    response = admin_client.post(
        reverse("admin:explainers_checkpoint_add"),
        {"kind": "decoder", "name": "", "path": str(world.classifier)},
    )
    assert response.status_code == 200
    assert "holds a &#x27;classifier&#x27; checkpoint, expected a &#x27;decoder&#x27;" in response.text
    assert not Checkpoint.objects.exists()


def test_a_researcher_adds_a_checkpoint_by_path_and_it_is_fingerprinted(
    admin_client: Client, world: TinyWorld
) -> None:
    response = admin_client.post(
        reverse("admin:explainers_checkpoint_add"),
        {"kind": "decoder", "name": "tiny", "path": str(world.decoder)},
    )
    assert response.status_code == 302
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.name, len(checkpoint.sha256), checkpoint.config["in_channels"]) == ("tiny", 64, 512)


def test_a_researcher_sees_a_failed_job_with_its_error_and_questions(
    admin_client: Client, world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    job = failed_job(world, tmp_path / "out", django_capture_on_commit_callbacks)
    listing = admin_client.get(reverse("admin:explainers_renderjob_changelist"))
    page = admin_client.get(reverse("admin:explainers_renderjob_change", args=[job.pk]))
    assert "tiny" in listing.text and "Failed" in listing.text
    assert "WorkerLostError: the worker went away" in page.text


def test_re_running_a_failed_job_from_the_admin_renders_it_to_the_end(
    admin_client: Client, world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    job = failed_job(world, tmp_path / "out", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:explainers_renderjob_changelist"),
            {"action": "rerun_failed", "_selected_action": [job.pk]},
        )
    job.refresh_from_db()
    assert (job.status, job.error, job.study.questions.count()) == ("succeeded", "", 3)
    page = admin_client.get(reverse("admin:explainers_renderjob_change", args=[job.pk]))
    assert reverse("admin:survey_study_change", args=[job.study.pk]) in page.text


def test_the_web_process_loads_the_admin_and_tasks_without_importing_torch() -> None:
    code = (
        "import django, sys; django.setup(); import explainers.admin, explainers.tasks, demo.rendered; "
        "print('torch' in sys.modules)"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_a_researcher_sees_a_jobs_methods_saliency_and_selection(
    admin_client: Client, world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = tiny_job_create(
            world, output_dir=tmp_path / "out", methods=["pv", "none"], saliency="gradcam++"
        )

    page = admin_client.get(reverse("admin:explainers_renderjob_change", args=[job.pk])).text

    assert "Perception Visualization (pv), No explanation (none)" in page
    assert "gradcam++" in page
    assert "<tr><th>eligible, the model is right (P = L)</th><td>1</td></tr>" in page
