"""Celery tasks for render jobs: thin, they take ids and call explainers.services.

A job runs as render_job_run (pick questions, plan chunks), then a group of render_chunk_task, one per
chunk, which any number of workers share; the one that renders the last chunk imports the study. Late
acks and requeue on a lost worker mean a killed chunk is delivered again and resumes, taking over its
own claims; any other failure marks the job failed.
"""

from __future__ import annotations

from typing import Any

from celery import Task, group, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from explainers import services

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class RenderTask(Task):
    """Retries transient errors; when a task gives up, its job is marked failed with the reason."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    max_retries = 3
    retry_backoff = 5
    retry_backoff_max = 60

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Recorded here rather than in on_failure, which eager mode skips when it propagates errors.
        try:
            return super().__call__(*args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            job_id = kwargs.get("job_id", args[0] if args else None)
            services.render_job_fail(job_id=job_id, error=failure_message(self, exc))
            raise


def failure_message(task: Task, exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"{task.name} ran longer than its {task.soft_time_limit} s limit"
    return services.error_text(exc)


@shared_task(base=RenderTask, soft_time_limit=3600, time_limit=3660)
def render_job_run(job_id: int) -> None:
    # Picking questions runs the classifier over the whole split: long on a CPU, hence the limit.
    chunks = services.render_job_start(job_id=job_id)
    if chunks is None:
        return
    if not chunks:  # rendered before (a re-run after a failed import)
        services.render_job_finish_when_done(job_id=job_id)
        return
    group(render_chunk_task.si(job_id, keys) for keys in chunks).apply_async()


@shared_task(base=RenderTask, bind=True, soft_time_limit=600, time_limit=660)
def render_chunk_task(self: Task, job_id: int, keys: list[str]) -> int:
    # The task id is the claim: delivered again after its worker died, it takes over its own questions.
    rendered = services.render_chunk(job_id=job_id, keys=keys, claim=self.request.id or "")
    services.render_job_finish_when_done(job_id=job_id)
    return rendered


@shared_task(base=RenderTask, soft_time_limit=600, time_limit=660)
def render_job_finish_task(job_id: int) -> None:
    services.render_job_finish(job_id=job_id)
