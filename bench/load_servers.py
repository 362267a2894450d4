"""The servers under load and what they cost: CPU time from /proc, throw-away PostgreSQL databases, and
oTree 6 (in a virtualenv of its own) serving bench/otree_survey in production mode."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import URLError

from tests.servers import Server

BENCH = Path(__file__).resolve().parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
OTREE_PINS = ("otree==6.0.15", "psycopg2-binary==2.9.13")  # psycopg2: SQLAlchemy 1.3's PostgreSQL driver
OTREE_VENV = BENCH / ".otree-venv"
OTREE_PROJECT = BENCH / "otree_survey"
OTREE_REST_KEY = "bench-only"


# CPU time


def stat_fields(text: str) -> list[str]:
    """A /proc/<pid>/stat line from its third field on: the command name before it, in parentheses, may
    hold spaces and parentheses itself."""
    return text.rpartition(")")[2].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = stat_fields(Path(f"/proc/{pid}/stat").read_text())
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (field 4 of their /proc/<pid>/stat), in pid order."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int(stat_fields((entry / "stat").read_text())[1]) == pid:
                found.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            pass  # it ended while we looked
    return sorted(found)


def cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


# PostgreSQL


def postgres_reachable(url: str) -> str:
    """Why PostgreSQL at ``url`` cannot be used, or "" when it can."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    return ""


@contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh database on ``server_url``'s server, dropped afterwards (connections and all)."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# oTree


def otree_install() -> str:
    """Install oTree into bench/.otree-venv on first use; "" when it is ready, else why it is not."""
    marker = OTREE_VENV / ".installed"
    if marker.exists() and marker.read_text() == " ".join(OTREE_PINS):
        return ""
    python = shutil.which("python3.11") or sys.executable
    print(f"installing {' '.join(OTREE_PINS)} into {OTREE_VENV.relative_to(BENCH.parent)} (first run only)")
    steps = [
        [python, "-m", "venv", str(OTREE_VENV)],
        [str(OTREE_VENV / "bin" / "pip"), "install", "-q", *OTREE_PINS],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"{' '.join(step[:3])} failed:\n{done.stderr[-2000:]}"
    marker.write_text(" ".join(OTREE_PINS))
    return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def otree_server(database_url: str, log: Path) -> Iterator[Server]:
    """`otree prodserver` (uvicorn, one process, plus its timeout worker) on a free port."""
    port = free_port()
    env = {
        **os.environ,
        # prodserver starts `otree timeoutsubprocess` from the PATH
        "PATH": f"{OTREE_VENV / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": database_url.replace("postgres://", "postgresql://", 1),
        "OTREE_PRODUCTION": "1",
        "OTREE_AUTH_LEVEL": "STUDY",
        "OTREE_ADMIN_PASSWORD": "bench-only",
        "OTREE_REST_KEY": OTREE_REST_KEY,
    }
    command = [str(OTREE_VENV / "bin" / "otree"), "prodserver", f"127.0.0.1:{port}"]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=OTREE_PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        address = f"http://127.0.0.1:{port}"
        _otree_ready(address, log)
        yield Server(address, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the timeout worker too
        process.wait(timeout=30)


def otree_rest(address: str, path: str, payload: dict | None = None) -> dict:
    """oTree's REST API: a POST with a JSON payload, or a GET without one."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{address}{path}", data, {"otree-rest-key": OTREE_REST_KEY})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def _otree_ready(address: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            otree_rest(address, "/api/otree_version")
            return
        except (URLError, ConnectionError):
            time.sleep(0.1)  # polling with a deadline
    raise RuntimeError(f"oTree did not start:\n{log.read_text()}")


def otree_participants(address: str, count: int) -> list[str]:
    """Codes of ``count`` participants of a new session of bench/otree_survey's xai app."""
    session = otree_rest(address, "/api/sessions", {"session_config_name": "xai", "num_participants": count})
    found = otree_rest(address, f"/api/get_session/{session['code']}", {})
    return [participant["code"] for participant in found["participants"]]
