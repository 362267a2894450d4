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
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_SERVICES = [name for name, service in SERVICES.items() if "build" in service]
# Where each program a container runs comes from: our requirements, our Dockerfile, or the service's image.
PROGRAM_SOURCES = {
    "gunicorn": "requirements",
    "celery": "requirements",
    "python": "image",
    "curl": "apt",
    "pg_isready": "postgres",
    "redis-cli": "redis",
    "redis-server": "redis",
    "bash": "proxy",
}


def command_of(service: str) -> list[str]:
    command = SERVICES[service].get("command")
    return command if isinstance(command, list) else shlex.split(command)


def healthcheck_of(service: str) -> list[str]:
    test = SERVICES[service]["healthcheck"]["test"]
    return shlex.split(test[1]) if test[0] == "CMD-SHELL" else test[1:]


def requirement_names() -> set[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {re.split(r"[\[=<>]", line)[0].strip().lower() for line in lines if line and line[0].isalpha()}


def gunicorn_target(command: list[str]) -> str:
    return next(arg for arg in command[1:] if ":" in arg and not arg.startswith("-"))


def test_it_defines_the_web_worker_redis_and_postgres_services() -> None:
    assert {"web", "worker", "redis", "postgres"} <= set(SERVICES)
    assert {"migrate", "web", "worker", "worker-default"} <= set(APP_SERVICES)


@pytest.mark.parametrize("service", ["web", "redis", "postgres", "worker", "worker-default", "proxy"])
def test_every_long_running_service_has_a_healthcheck(service: str) -> None:
    assert healthcheck_of(service)


def test_the_database_and_media_live_in_named_volumes() -> None:
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert any(volume.startswith("media:") for volume in SERVICES["web"]["volumes"])
    assert any(volume.startswith("media:/data/media") for volume in SERVICES["proxy"]["volumes"])
    assert {"pgdata", "media", "renders"} <= set(COMPOSE["volumes"])


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


def test_every_program_a_container_runs_is_installed_where_it_runs() -> None:
    requirements = requirement_names()
    apt_packages = set(re.findall(r"apt-get install[^&]*", DOCKERFILE)[0].split())
    for name in SERVICES:
        commands = [healthcheck_of(name)] if "healthcheck" in SERVICES[name] else []
        commands += [command_of(name)] if "command" in SERVICES[name] else []
        for command in commands:
            source = PROGRAM_SOURCES[command[0]]
            if source == "requirements":
                assert command[0] in requirements, (name, command[0])
            elif source == "apt":
                assert command[0] in apt_packages, (name, command[0])
            elif source != "image":
                assert name == source, (name, command[0])


def test_the_web_command_and_the_dockerfile_cmd_serve_the_same_wsgi_app() -> None:
    dockerfile_cmd = yaml.safe_load(re.findall(r"^CMD (.+)$", DOCKERFILE, flags=re.MULTILINE)[-1])
    assert dockerfile_cmd == command_of("web")
    module, attribute = gunicorn_target(command_of("web")).split(":")
    assert hasattr(importlib.import_module(module), attribute)
    config_file = command_of("web")[command_of("web").index("-c") + 1]
    assert (ROOT / config_file).is_file()


def test_the_gunicorn_access_log_keeps_no_address_query_or_user_agent() -> None:
    gunicorn_config = importlib.import_module("config.gunicorn")
    for field in ("%(h)s", "%(q)s", "%(r)s", "%(a)s", "%(f)s", "%(U)s?"):
        assert field not in gunicorn_config.access_log_format
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    # The address goes to the app in one header, for per-client rate limits (hashed there), and nowhere else.
    outside_that_header = nginx.replace("proxy_set_header X-Real-IP $remote_addr;", "")
    assert "$remote_addr" not in outside_that_header
    assert "$request_uri" not in nginx and "$http_user_agent" not in nginx
    assert '"$request_method $private_uri"' in nginx  # tokens redacted (the map above the format)


def test_the_celery_app_it_names_imports() -> None:
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
    for sources in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, flags=re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), source


def test_the_proxy_config_it_mounts_exists() -> None:
    for volume in SERVICES["proxy"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).is_file(), source


@pytest.mark.django_db
def test_the_healthcheck_answers_whatever_the_host_header(client) -> None:
    path = healthcheck_of("web")[-1].split("8000", 1)[1]
    response = client.get(path, HTTP_HOST="not-an-allowed-host.example")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
