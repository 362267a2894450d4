from __future__ import annotations

from django.apps import AppConfig


class ExplainersConfig(AppConfig):
    name = "explainers"
    verbose_name = "Explainers"

    def ready(self) -> None:
        # Registers the dry run's task with Celery; autodiscovery only looks in explainers.tasks.
        from explainers import dry_run_tasks  # noqa: F401
