"""Real gunicorn servers, started with the project's config, for tests that need the whole stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Server:
    address: str  # http://127.0.0.1:<port>
    pid: int  # the master's; its workers are its children


@contextmanager
def gunicorn_server(log: Path, workers: int = 1, **environment: str) -> Iterator[Server]:
    """Run gunicorn on a free port, stdout and stderr to ``log``; yield where it is; stop it after."""
    env = {
        **os.environ,
        "GUNICORN_BIND": "127.0.0.1:0",
        "GUNICORN_WORKERS": str(workers),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **environment,
    }
    env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Server(_wait_for_address(log, workers), process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def gunicorn(log: Path, workers: int = 1, **environment: str) -> Iterator[str]:
    """``gunicorn_server``, yielding only its address."""
    with gunicorn_server(log, workers, **environment) as server:
        yield server.address


def _wait_for_address(log: Path, workers: int) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", text)
        if found and text.count("Booting worker") >= workers:
            return found.group(1)
        time.sleep(0.05)  # polling the log with a deadline
    raise AssertionError(f"gunicorn did not start:\n{log.read_text()}")
