"""Settings come from the environment and a bad value stops the start-up with a message."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import check_broker_url, env_bool, env_int, parse_database_url
from config.logfilters import StripQueryString

ROOT = Path(__file__).resolve().parents[2]


def start_django(**environment: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with exactly these variables."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **environment}
    code = "import django; django.setup(); print('started')"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_a_relative_sqlite_url_lands_under_the_project() -> None:
    database = parse_database_url("sqlite:///var/x.sqlite3", Path("/srv/app"))
    assert database["NAME"] == "/srv/app/var/x.sqlite3"


def test_an_absolute_sqlite_url_keeps_its_path() -> None:
    assert parse_database_url("sqlite:////tmp/x.sqlite3", Path("/srv"))["NAME"] == "/tmp/x.sqlite3"


def test_a_postgres_url_gives_every_connection_field_and_its_options() -> None:
    database = parse_database_url("postgres://u:p%40ss@db:6543/name?sslmode=require", Path("/"))
    assert (database["USER"], database["PASSWORD"], database["HOST"], database["PORT"]) == (
        "u", "p@ss", "db", "6543",
    )  # fmt: skip
    assert database["NAME"] == "name"
    assert database["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/x", "not supported"),
        ("postgres://db:port/x", "invalid port"),
        ("postgres://db:5432/", "names no database"),
        ("sqlite:///", "names no SQLite file"),
    ],
)
def test_a_bad_database_url_is_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_database_url(url, Path("/"))


def test_a_broker_url_must_be_empty_or_a_known_scheme() -> None:
    assert check_broker_url("") == ""
    assert check_broker_url("redis://127.0.0.1:6379/0").startswith("redis://")
    with pytest.raises(ImproperlyConfigured, match="not a broker URL"):
        check_broker_url("notaurl")


def test_booleans_and_integers_refuse_what_they_cannot_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "maybe")
    monkeypatch.setenv("NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be a boolean"):
        env_bool("FLAG")
    with pytest.raises(ImproperlyConfigured, match="NUMBER must be an integer"):
        env_int("NUMBER", 1)


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = start_django(ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts() -> None:
    result = start_django(SECRET_KEY="x" * 50)
    assert "ALLOWED_HOSTS must name" in result.stderr


def test_development_settings_start_with_nothing_set() -> None:
    assert start_django(DEBUG="1").stdout.strip() == "started"


def test_the_request_log_drops_query_strings() -> None:
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s',
        ("GET /s/demo/?PROLIFIC_PID=abc123&STUDY_ID=x HTTP/1.1", "200", "512"), None,
    )  # fmt: skip
    StripQueryString().filter(record)
    assert "abc123" not in record.getMessage()
    assert "GET /s/demo/ HTTP/1.1" in record.getMessage()
