"""Participant tokens never reach a log: Django's request log and a real gunicorn's access and error logs."""

from __future__ import annotations

import io
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests.servers import gunicorn

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


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_gunicorn_logs_participant_paths_without_their_tokens(tmp_path: Path) -> None:
    # An empty SQLite database: a participant path fails on it, so the error log is tested too.
    log = tmp_path / "gunicorn.log"
    with gunicorn(log, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}") as address:
        statuses = [_get(f"{address}/api/participants/{TOKEN}/next/"), _get(f"{address}/s/x/p/{TOKEN}/")]

    written = log.read_text()
    assert statuses == [503, 503]  # the empty database has no tables: an outage, to the participant
    assert '"GET /api/participants/[token]/next/" 503' in written
    assert "Service Unavailable: /s/x/p/[token]/" in written
    assert TOKEN not in written


def test_every_access_log_atom_a_format_may_read_is_redacted() -> None:
    from config.gunicorn_logging import RedactedAtoms

    path = f"/s/x/p/{TOKEN}/question/"
    atoms = RedactedAtoms(
        {
            "r": f"GET {path} HTTP/1.1",
            "U": path,
            "{referer}i": f"https://host{path}",
            "{path_info}e": path,
            "s": 200,
        }
    )
    fmt = "%(r)s %(U)s %({Referer}i)s %({PATH_INFO}e)s %(s)s"

    line = fmt % atoms

    assert TOKEN not in line
    assert line.count("[token]") == 4 and line.endswith(" 200")
