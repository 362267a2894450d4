"""The participant path loads no heavy library, and the WSGI app is warm once imported."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from survey.services.participants import participant_start
from tests.factories import make_study
from tests.servers import gunicorn, gunicorn_server
from tests.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["scipy", "matplotlib", "pandas", "statsmodels", "torch"]

# What a gunicorn master does with preload_app, then what a participant request and a reverse() ask.
CHECK = """
import sys
import config.wsgi
from django.urls import get_resolver, reverse
get_resolver().resolve("/api/participants/AAAAAAAAAAAAAAAAAAAAAA/next/")
reverse("survey:question", kwargs={"slug": "s", "token": "AAAAAAAAAAAAAAAAAAAAAA"})
reverse("api-study-results", kwargs={"slug": "s"})
print(" ".join(name for name in sys.argv[1:] if name in sys.modules))
"""


def test_the_warmed_app_and_the_participant_path_import_no_heavy_library() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-c", CHECK, *HEAVY]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_staff_views_still_load_when_first_used(admin_client, db) -> None:
    response = admin_client.get("/api/studies/no-such-study/results/")

    assert response.json() == {"message": "No study with slug 'no-such-study'."}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_reads_open_studies_before_forking_and_its_workers_warm_up_unseen(tmp_path: Path) -> None:
    study = make_study()
    token = participant_start(study=study).token
    db = connection.settings_dict
    database = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    log = tmp_path / "gunicorn.log"

    with gunicorn(log, workers=2, DATABASE_URL=database, ALLOWED_HOSTS="127.0.0.1") as address:
        status = urllib.request.urlopen(f"{address}/api/participants/{token}/next/", timeout=30).status

    written = log.read_text()
    assert status == 200
    assert "warm-up: the content of 1 studies taking participants is in memory" in written
    assert "warm-up" not in written.replace("warm-up: the content of 1 studies", "")  # no worker complained
    assert "Not Found" not in written and '/next/" 404' not in written  # the workers' own request is unseen


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_told_to_stop_during_its_warm_up_stops_right_after_it(tmp_path: Path) -> None:
    # Each database connection takes 2 s through the proxy. The server is told to stop once the master's
    # and both workers' connections are in, so both workers are warming up. A worker that missed the
    # signal would serve on until the master's graceful timeout (30 s) killed it.
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)), delay_s=2.0)
    proxy.start()
    database = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    log = tmp_path / "gunicorn.log"
    try:
        with gunicorn_server(log, 2, DATABASE_URL=database, ALLOWED_HOSTS="127.0.0.1"):
            deadline = time.monotonic() + 20
            while proxy.accepted < 3 and time.monotonic() < deadline:
                time.sleep(0.01)  # polling the proxy's count with a deadline
            warming = proxy.accepted
            told = time.monotonic()  # leaving the block sends SIGTERM, then waits for the server to exit
        stopped_after = time.monotonic() - told
    finally:
        proxy.stop()

    assert warming >= 3, log.read_text()
    assert stopped_after < 10, log.read_text()
