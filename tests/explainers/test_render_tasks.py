"""The render tasks: retries of transient errors, and repeated messages that change nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import OperationalError

from explainers import services, tasks
from explainers.models import RenderedImage, RenderJob
from tests.explainers.helpers import TinyWorld, tiny_job_create

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., object]


def job_planned(world: TinyWorld, out: Path, on_commit: OnCommit, *, run: bool = False) -> RenderJob:
    with on_commit(execute=run):
        job = tiny_job_create(world, output_dir=out, chunk_size=2)
    job.refresh_from_db()
    return job


def test_a_chunk_that_meets_a_database_outage_is_retried_and_renders(
    world: TinyWorld,
    tmp_path: Path,
    django_capture_on_commit_callbacks: OnCommit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = job_planned(world, tmp_path / "out", django_capture_on_commit_callbacks)
    keys = services.render_job_start(job_id=job.pk)[0]
    calls: list[list[str]] = []
    render_chunk = services.render_chunk

    def flaky(*, job_id: int, keys: list[str], claim: str) -> int:
        calls.append(keys)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return render_chunk(job_id=job_id, keys=keys, claim=claim)

    monkeypatch.setattr(tasks.services, "render_chunk", flaky)
    # throw=False: a worker's retry, played in-process (an eager run that propagates errors cannot retry).
    assert tasks.render_chunk_task.apply(args=(job.pk, keys), throw=False).get() == 2
    assert calls == [keys, keys]
    job.refresh_from_db()
    assert (job.status, job.error, job.done) == ("running", "", 2)


def test_a_chunk_message_delivered_again_after_the_job_succeeded_changes_nothing(
    world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    job = job_planned(world, tmp_path / "out", django_capture_on_commit_callbacks, run=True)
    images = {image.pk: image.sha256 for image in RenderedImage.objects.all()}
    keys = list(job.questions.values_list("key", flat=True))
    assert tasks.render_chunk_task.apply(args=(job.pk, keys)).get() == 0
    tasks.render_job_finish_task.apply(args=(job.pk,)).get()
    tasks.render_job_run.apply(args=(job.pk,)).get()
    assert {image.pk: image.sha256 for image in RenderedImage.objects.all()} == images
    job.refresh_from_db()
    # 3 questions, the example, and a practice image and an attention check's from the spares
    assert (job.status, job.done) == ("succeeded", 6)


def test_a_failing_task_marks_its_job_failed_with_the_reason(
    world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit
) -> None:
    job = job_planned(world, tmp_path / "out", django_capture_on_commit_callbacks)
    services.render_job_start(job_id=job.pk)
    with pytest.raises(services.RenderError):
        tasks.render_chunk_task.apply(args=(job.pk, ["no_such_image"]), throw=True)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", f"render job {job.pk} has no questions no_such_image")
