"""docker-compose cannot run here, so check what can be checked by reading it."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "worker-default"]


def command_of(service: str) -> list[str]:
    command = SERVICES[service].get("command")
    return command if isinstance(command, list) else shlex.split(command)


def test_it_defines_the_web_worker_redis_and_postgres_services() -> None:
    assert {"web", "worker", "redis", "postgres"} <= set(SERVICES)


@pytest.mark.parametrize("service", ["web", "redis", "postgres", "worker"])
def test_every_long_running_service_has_a_healthcheck(service: str) -> None:
    assert SERVICES[service]["healthcheck"]["test"]


def test_the_database_and_media_live_in_named_volumes() -> None:
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert any(volume.startswith("media:") for volume in SERVICES["web"]["volumes"])
    assert {"pgdata", "media"} <= set(COMPOSE["volumes"])


def test_the_render_worker_reserves_a_gpu_and_consumes_the_render_queue() -> None:
    devices = SERVICES["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    command = command_of("worker")
    assert command[command.index("--queues") + 1] == "render"


def test_every_manage_py_command_it_runs_exists_in_the_project() -> None:
    known = get_commands()
    for service in APP_SERVICES:
        command = command_of(service)
        if "manage.py" in command:
            assert command[command.index("manage.py") + 1] in known, service


def test_gunicorn_and_celery_targets_import() -> None:
    module, attribute = command_of("web")[1].split(":")
    assert hasattr(importlib.import_module(module), attribute)
    for service in ("worker", "worker-default"):
        command = command_of(service)
        app_module = command[command.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main


def test_the_app_services_point_at_the_compose_database_and_broker() -> None:
    environment = SERVICES["web"]["environment"]
    database_url = environment["DATABASE_URL"]
    assert database_url.startswith("postgres://") and "@postgres:5432/" in database_url
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert environment["DEBUG"] == "0"


def test_every_environment_variable_it_sets_is_read_by_the_settings() -> None:
    settings_source = (ROOT / "config" / "settings.py").read_text()
    for name in SERVICES["web"]["environment"]:
        assert f'"{name}"' in settings_source, name


def test_every_path_the_dockerfile_copies_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for sources in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), source


@pytest.mark.django_db
def test_the_healthcheck_url_answers(client) -> None:
    path = SERVICES["web"]["healthcheck"]["test"][-1].split("8000", 1)[1]
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
