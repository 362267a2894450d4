"""The Celery app. With no CELERY_BROKER_URL, tasks run in-process and eagerly."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("xaisurvey")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
