"""Workers sharing a job: each question is claimed while it renders, so none is rendered twice at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from explainers import services, tasks
from explainers.models import RenderedImage, RenderJob, RenderQuestion
from explainers.services import inference
from explainers.services.rendering import CLAIM_LEASE, questions_claim
from survey.models import Study
from tests.explainers.helpers import TinyWorld, tiny_job_create

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., object]


@pytest.fixture
def planned(world: TinyWorld, tmp_path: Path, django_capture_on_commit_callbacks: OnCommit) -> RenderJob:
    """A job with its questions picked, two chunks of two, nothing rendered: the test plays the workers."""
    with django_capture_on_commit_callbacks(execute=False):
        job = tiny_job_create(world, output_dir=tmp_path / "out", chunk_size=2)
    services.render_job_start(job_id=job.pk)
    return job


def chunks_of(job: RenderJob) -> list[list[str]]:
    keys = list(job.questions.order_by("key").values_list("key", flat=True))
    return [keys[:2], keys[2:]]


def test_a_question_a_live_worker_holds_is_left_to_it_until_its_own_task_comes_back(
    planned: RenderJob,
) -> None:
    first, second = chunks_of(planned)
    questions_claim(job=planned, keys=first, claim="task-a")  # a worker that dies holding them, say

    assert services.render_chunk(job_id=planned.pk, keys=first, claim="task-b") == 0  # a duplicate message
    again = services.render_job_start(job_id=planned.pk)  # a start delivered again skips them
    assert sorted(key for keys in again for key in keys) == sorted(second)
    assert not RenderedImage.objects.exists()

    assert (
        services.render_chunk(job_id=planned.pk, keys=first, claim="task-a") == 2
    )  # redelivered: takes over
    questions = RenderQuestion.objects.filter(key__in=first)
    assert [(q.attempts, q.claimed_by, q.claimed_at) for q in questions] == [(1, "", None)] * 2
    assert RenderedImage.objects.filter(question__in=questions).count() == 2 * 4


def test_a_claim_older_than_any_task_may_run_is_taken_over(planned: RenderJob) -> None:
    first, _ = chunks_of(planned)
    questions_claim(job=planned, keys=first, claim="lost")
    planned.questions.filter(key__in=first).update(
        claimed_at=timezone.now() - CLAIM_LEASE - timedelta(seconds=1)
    )

    assert services.render_chunk(job_id=planned.pk, keys=first, claim="another") == 2


def test_a_render_that_fails_lets_its_questions_go_for_the_next_attempt(
    planned: RenderJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = chunks_of(planned)

    def broken(**arguments: object) -> list:
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(inference, "explanations_write", broken)
    with pytest.raises(RuntimeError, match="out of memory"):
        services.render_chunk(job_id=planned.pk, keys=first, claim="task-a")

    questions = planned.questions.filter(key__in=first)
    assert [(q.claimed_by, q.attempts) for q in questions] == [("", 1)] * 2
    monkeypatch.undo()
    assert services.render_chunk(job_id=planned.pk, keys=first, claim="task-b") == 2
    assert [q.attempts for q in questions.all()] == [2, 2]


def test_a_chunk_records_its_images_in_one_bulk_insert(planned: RenderJob) -> None:
    first, _ = chunks_of(planned)

    with CaptureQueriesContext(connection) as queries:
        services.render_chunk(job_id=planned.pk, keys=first)

    inserts = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "explainers_renderedimage"')
    ]
    assert len(inserts) == 1
    assert RenderedImage.objects.count() == 2 * 4
    assert all(q.rendered_by for q in planned.questions.filter(key__in=first))


def test_the_task_that_renders_the_last_chunk_imports_the_study(planned: RenderJob) -> None:
    first, second = chunks_of(planned)

    tasks.render_chunk_task.apply(args=(planned.pk, first)).get()
    planned.refresh_from_db()
    assert (planned.status, planned.done) == ("running", 2)
    tasks.render_chunk_task.apply(args=(planned.pk, second)).get()

    planned.refresh_from_db()
    assert (planned.status, planned.done, planned.study.questions.count()) == (
        "succeeded",
        6,
        3,
    )  # + practice
    assert services.render_job_finish(job_id=planned.pk).study == planned.study  # a second finisher
    assert Study.objects.count() == 1


def test_a_failed_job_run_again_takes_back_the_claims_its_dead_tasks_left(
    planned: RenderJob, django_capture_on_commit_callbacks: OnCommit
) -> None:
    first, _ = chunks_of(planned)
    questions_claim(job=planned, keys=first, claim="died-with-the-job")
    services.render_job_fail(job_id=planned.pk, error="the worker was lost")

    with django_capture_on_commit_callbacks(execute=True):
        services.render_job_retry(job=planned)

    planned.refresh_from_db()
    assert (planned.status, planned.done) == ("succeeded", 6)  # 3 questions, example, practice, attention
    assert not planned.questions.exclude(claimed_by="").exists()
