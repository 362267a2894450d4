"""Suite-wide fixtures.

Celery tasks run eagerly unless a test is marked `redis`, in which case it talks to a real broker and
worker. Tests marked `postgres` are skipped on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from config.celery import app as celery_app


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_broker = bool(settings.CELERY_BROKER_URL)
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL pointing at PostgreSQL"))
        if item.get_closest_marker("redis") and not has_broker:
            item.add_marker(pytest.mark.skip(reason="needs CELERY_BROKER_URL pointing at Redis"))


@pytest.fixture(autouse=True)
def _eager_celery_unless_redis(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("redis"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Rate limits and login lockouts live in the cache: no test inherits another's counts. Only a
    local-memory cache is cleared: clearing Redis would flush a database other runs may share."""
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:
    """Every test writes its uploads to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _static_without_manifest(settings) -> None:
    """Tests run with DEBUG off but without collectstatic, so skip the manifest lookup."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
