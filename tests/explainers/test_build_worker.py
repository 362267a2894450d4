"""A study built from the admin, with a real Redis broker and a real Celery worker on the render queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client
from django.urls import reverse

import explainers.dry_run_tasks  # registers the dry run's task before the worker starts
import explainers.tasks  # noqa: F401  (registers the render tasks before the worker starts)
from config.celery import app
from explainers.models import RenderJob, SelectionDryRun
from survey.models import Study
from tests.explainers.helpers import TinyWorld, wait_until
from tests.explainers.test_build_admin import build_form


@pytest.mark.redis
@pytest.mark.postgres  # the worker thread writes while the test reads: SQLite would lock the table
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("render_queue")
def test_a_worker_runs_the_dry_run_and_the_render_started_from_the_admin(
    admin_client: Client, world: TinyWorld, settings, tmp_path: Path
) -> None:
    settings.EXPLAINERS_DATASET_ROOTS = [world.voc.parent]
    settings.EXPLAINERS_RENDER_ROOT = tmp_path / "renders"
    url = reverse("admin:explainers_renderjob_build")
    with start_worker(app, queues=["render"], perform_ping_check=False, pool="solo", shutdown_timeout=30):
        admin_client.post(url, build_form(world, dry_run="1"))
        dry_run = SelectionDryRun.objects.get()
        wait_until(lambda: SelectionDryRun.objects.get().is_finished, timeout=90, what="the dry run")
        response = admin_client.post(url, build_form(world, start="1", open_study="on"))
        job = RenderJob.objects.get()
        wait_until(lambda: RenderJob.objects.get().is_finished, timeout=120, what="the render job")

    dry_run.refresh_from_db()
    job.refresh_from_db()
    assert (dry_run.status, len(dry_run.picks)) == ("succeeded", 4)  # three questions and the example
    assert response.url == reverse("admin:explainers_renderjob_change", args=[job.pk])
    assert (job.status, job.error, job.done, job.total) == ("succeeded", "", 6, 6)  # with practice, attention
    assert job.celery_task_id
    progress = admin_client.get(reverse("admin:explainers_renderjob_progress", args=[job.pk])).json()
    assert progress["study_url"] == reverse("admin:survey_study_change", args=[job.study_id])
    study = Study.objects.get(slug="from-the-admin")
    assert study.is_open and study.questions.count() == 3
