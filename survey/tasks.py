"""Celery tasks of the survey: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from survey.services.participants import participants_mark_abandoned


@shared_task(name="survey.participants_mark_abandoned", time_limit=300)
def participants_mark_abandoned_task() -> int:
    """Periodic (celery beat): returns how many participants were marked abandoned."""
    return participants_mark_abandoned()
