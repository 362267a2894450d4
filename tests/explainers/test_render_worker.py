"""Render jobs through a real Redis broker and a real Celery worker consuming the render queue.

One test, one worker: two workers on the render queue (from two xdist processes) would take each
other's jobs, and loadgroup does not keep tests together with pytest 9 and xdist 3.8.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command

import explainers.tasks  # noqa: F401  (registers the tasks before the worker starts)
from config.celery import app
from explainers.models import RenderJob
from tests.explainers.helpers import TinyWorld, tiny_job_create, wait_until


@pytest.mark.redis
@pytest.mark.postgres  # the worker thread writes while the test reads: SQLite would lock the table
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("render_queue")
def test_a_worker_renders_the_jobs_that_the_service_and_render_study_send_through_the_broker(
    world: TinyWorld, tmp_path: Path
) -> None:
    stdout = io.StringIO()
    with start_worker(app, queues=["render"], perform_ping_check=False, pool="solo", shutdown_timeout=30):
        job = tiny_job_create(world, output_dir=tmp_path / "service", slug="through-redis", chunk_size=2)
        wait_until(lambda: RenderJob.objects.get(pk=job.pk).is_finished, timeout=90, what="the render job")
        call_command(
            "render_study",
            f"--classifier={world.classifier}",
            f"--decoder={world.decoder}",
            f"--voc={world.voc}",
            "--slug=waited",
            "--n-correct=1",
            "--n-wrong=1",
            f"--output-dir={tmp_path / 'command'}",
            "--wait",
            "--timeout=90",
            stdout=stdout,
        )
    job.refresh_from_db()
    # 3 questions, the example, and a practice image and an attention check's from the spares
    assert (job.status, job.error, job.done, job.total) == ("succeeded", "", 6, 6)
    assert job.celery_task_id
    assert job.study.questions.count() == 3
    assert "Study 'waited' is a draft (open it in the admin): /s/waited/" in stdout.getvalue()
