"""The build page's dry run as a Celery task on the render queue, where the classifier runs fast.

Registered by ExplainersConfig.ready (autodiscovery only finds explainers.tasks).
"""

from __future__ import annotations

from celery import shared_task

from explainers.services.dry_runs import dry_run_execute


@shared_task(queue="render", acks_late=True, soft_time_limit=3600, time_limit=3660)
def selection_dry_run(dry_run_id: int) -> str:
    return dry_run_execute(dry_run_id=dry_run_id).status
