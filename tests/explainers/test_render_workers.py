"""Real render workers, each in its own process, sharing jobs through Redis and PostgreSQL.

The workers consume a queue of this test's own (EXPLAINERS_RENDER_QUEUE), so tests running at the same
time in other processes, and their workers, never take each other's tasks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from explainers.models import RenderedImage, RenderJob
from explainers.nn.files import file_sha256
from explainers.services.rendering import image_relpath
from explainers.tasks import render_job_run
from tests.explainers.helpers import TinyWorld, tiny_job_create, wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,  # the workers and the test share the database, from separate processes
    pytest.mark.django_db(transaction=True),
]


class Workers:
    """Starts worker processes on a fresh queue, and stops every one of them afterwards."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.queue = folder, f"render-test-{uuid.uuid4().hex[:12]}"
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *, pool: str = "solo", **hooks: str) -> None:
        database = connection.settings_dict
        environment = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "EXPLAINERS_RENDER_QUEUE": self.queue,
            "EXPLAINERS_LOADER_WORKERS": "1",
            "MEDIA_ROOT": str(self.folder / "media"),
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT),
            "RENDER_TEST_READY": str(self.folder / f"{name}.ready"),
            **hooks,
        }
        log = (self.folder / f"{name}.log").open("w")
        command = [sys.executable, "-m", "tests.explainers.render_worker", name, pool]
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, *names: str) -> None:
        for name in names:
            wait_until((self.folder / f"{name}.ready").is_file, timeout=60, what=f"worker {name} to start")

    def enqueue(self, job: RenderJob) -> None:
        render_job_run.apply_async(args=(job.pk,), queue=self.queue)

    def wait_finished(self, job: RenderJob) -> RenderJob:
        try:
            wait_until(lambda: RenderJob.objects.get(pk=job.pk).is_finished, timeout=180, what="the job")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from exc
        return RenderJob.objects.get(pk=job.pk)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # warm shutdown of the worker and its pool
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path)
    yield started
    started.stop()  # before the database is flushed: the workers hold connections to it


def test_two_workers_share_one_job_render_every_image_once_and_the_study_completes(
    world: TinyWorld, tmp_path: Path, workers: Workers
) -> None:
    workers.start("render-a")
    workers.start("render-b")
    workers.wait_ready("render-a", "render-b")
    job = tiny_job_create(
        world,
        output_dir=tmp_path / "out",
        slug="shared",
        n_correct=1,
        n_wrong=10,
        chunk_size=1,
        enqueue=False,
    )

    workers.enqueue(job)
    job = workers.wait_finished(job)

    assert (job.status, job.error, job.done, job.total) == ("succeeded", "", 12, 12), workers.logs()
    questions = list(job.questions.all())
    assert [question.attempts for question in questions] == [1] * 12  # nothing rendered twice
    assert RenderedImage.objects.filter(question__job=job).count() == 12 * 4  # nothing lost
    assert len({question.rendered_by for question in questions}) == 2  # both workers took part
    assert job.study.questions.count() == 11  # and the twelfth is the introductions' example


def test_a_worker_killed_mid_chunk_has_its_chunk_redone_once_and_nothing_doubled(
    world: TinyWorld, tmp_path: Path, workers: Workers
) -> None:
    gate, out = tmp_path / "gate.json", tmp_path / "out"
    workers.start("render-a", pool="prefork", RENDER_TEST_GATE=str(gate))
    job = tiny_job_create(
        world, output_dir=out, slug="killed", n_correct=1, n_wrong=4, chunk_size=2, enqueue=False
    )
    workers.enqueue(job)
    wait_until(gate.is_file, timeout=120, what="a chunk to reach the gate")
    stopped = json.loads(gate.read_text())

    held = job.questions.filter(key__in=stopped["keys"])
    assert all((out / image_relpath(key=key, kind="pv")).is_file() for key in stopped["keys"])
    assert not RenderedImage.objects.filter(question__in=held).exists()  # its PNGs written, not recorded
    assert all(question.claimed_by for question in held)
    workers.start("render-b")
    os.kill(stopped["pid"], signal.SIGKILL)  # the pool's process rendering the chunk, mid-way
    job = workers.wait_finished(job)

    # Five questions, the example, and the practice and attention images picked from the spares.
    assert (job.status, job.error, job.done, job.total) == ("succeeded", "", 8, 8), workers.logs()
    attempts = {question.key: question.attempts for question in job.questions.all()}
    assert attempts == {key: 2 if key in stopped["keys"] else 1 for key in attempts}
    images = RenderedImage.objects.filter(question__job=job)
    assert images.count() == 8 * 4
    assert all(file_sha256(out / image.path) == image.sha256 for image in images)
    assert not list(out.rglob(".*.png"))  # no partial file left by the killed process
    assert all(f"pid {stopped['pid']}" not in question.rendered_by for question in held.all())
    assert job.study.questions.count() == 5
