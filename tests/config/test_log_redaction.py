"""Participant tokens never reach a log: Django's request log and a real gunicorn's access and error logs."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "SecretToken_0123456789abcdefXYZ-"  # shaped like a token, belongs to nobody


@pytest.fixture
def django_log() -> Iterator[io.StringIO]:
    """What the configured console handler writes (django.request logs through it)."""
    (handler,) = [h for h in logging.getLogger("django.request").handlers if h.filters]
    output = io.StringIO()
    previous = handler.setStream(output)
    yield output
    handler.setStream(previous)


@pytest.mark.django_db
def test_django_logs_a_refused_participant_path_without_its_token(django_log) -> None:
    Client().get(f"/api/participants/{TOKEN}/next/?PROLIFIC_PID=abc")
    Client().get(f"/s/some-study/p/{TOKEN}/question/")

    written = django_log.getvalue()
    assert "/api/participants/[token]/next/" in written
    assert "/s/some-study/p/[token]/question/" in written
    assert TOKEN not in written and "PROLIFIC_PID" not in written


def test_a_traceback_in_the_log_has_no_token(django_log) -> None:
    try:
        raise ValueError(f"bad answer on /s/x/p/{TOKEN}/question/")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /s/x/p/%s/", TOKEN)

    assert TOKEN not in django_log.getvalue()
    assert "/s/x/p/[token]/question/" in django_log.getvalue()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real gunicorn with the project's config, on a free port, on an empty SQLite database (so a
    participant path fails on the database and reaches the error log too)."""
    env = {
        **os.environ,
        "GUNICORN_BIND": "127.0.0.1:0",
        "GUNICORN_WORKERS": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield server, _wait_for_address(log)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for_address(log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log.read_text())
        if found and "Booting worker" in log.read_text():
            return found.group(1)
        time.sleep(0.05)  # polling the log with a deadline
    raise AssertionError(f"gunicorn did not start:\n{log.read_text()}")


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_gunicorn_logs_participant_paths_without_their_tokens(gunicorn, tmp_path: Path) -> None:
    server, address = gunicorn
    statuses = [_get(f"{address}/api/participants/{TOKEN}/next/"), _get(f"{address}/s/x/p/{TOKEN}/")]
    server.terminate()
    server.wait(timeout=30)

    written = (tmp_path / "gunicorn.log").read_text()
    assert statuses == [503, 503]  # the empty database has no tables: an outage, to the participant
    assert '"GET /api/participants/[token]/next/" 503' in written
    assert "Service Unavailable: /s/x/p/[token]/" in written
    assert TOKEN not in written
