"""Survey request cost: one participant's whole session through the API and through the pages.

Both run side by side on the same throw-away SQLite database in one process; the table reports the
ratio of their times and the number of SQL queries per request, which is what regresses first.

Then the cold start: a real gunicorn (the project's config, one worker) is booted in rounds, and the first
participant request after /healthz answers is compared with the warm ones that follow it.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="bench-survey-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings",
    DEBUG="0",
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS="testserver",
    DATABASE_URL=f"sqlite:///{WORK}/bench.sqlite3",
    MEDIA_ROOT=str(WORK / "media"),
    STATIC_ROOT=str(WORK / "static"),
    CELERY_BROKER_URL="",
    SECURE_COOKIES="0",
    SURVEY_START_RATE="100000/m",  # one client starts every session here
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.load_client import form_of  # noqa: E402
from survey.services.participants import participant_start  # noqa: E402
from tests.factories import make_study  # noqa: E402

SESSIONS = 8
COLD_ROUNDS = 3
WARM_REQUESTS = 20


def api_session(client: Client, slug: str) -> int:
    started = client.post(f"/api/studies/{slug}/participants/", "{}", content_type="application/json")
    token = started.json()["token"]
    requests = 1
    while True:
        step = client.get(f"/api/participants/{token}/next/").json()
        requests += 1
        if step.get("done"):
            return requests
        body = {"question": step["question"], "option": step["options"][0]["id"]}
        client.post(f"/api/participants/{token}/answers/", body, content_type="application/json")
        requests += 1


def page_session(client: Client, slug: str) -> int:
    """Consent, pass the introduction, then answer every question page with its first option; the form
    is read from the page itself, as a browser would."""
    response = client.post(f"/s/{slug}/", {"consent": "on"}, follow=True)
    response = client.post(response.redirect_chain[-1][0], follow=True)  # the introduction's Continue
    requests = 2
    while (form := form_of(response.content)).radios:
        if response.status_code != 200:  # a refused answer re-renders its question: it would never end
            raise RuntimeError(f"the question page answered {response.status_code}")
        choices = {name: options[0] for name, options in form.radios.items()}
        path = form.action or response.request["PATH_INFO"]
        response = client.post(path, {**form.values, **choices}, follow=True)
        requests += 1
    return requests


def measure(run: Callable[[Client, str], int], slug: str) -> tuple[float, float]:
    """Median seconds per request, and SQL queries per request, over fresh participants."""
    per_request, queries = [], []
    for _ in range(SESSIONS):
        client = Client()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            requests = run(client, slug)
            per_request.append((time.perf_counter() - started) / requests)
        queries.append(len(captured.captured_queries) / requests)
    return statistics.median(per_request), statistics.median(queries)


def timed_get(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
    return time.perf_counter() - started


def cold_start_round(token: str, log: Path) -> tuple[float, float]:
    """Boot gunicorn, wait for /healthz, then time the first participant request and the warm median."""
    env = {**os.environ, "GUNICORN_BIND": "127.0.0.1:0", "GUNICORN_WORKERS": "1"}
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        address = _healthy_address(log)
        url = f"{address}/api/participants/{token}/next/"
        first = timed_get(url)
        warm = statistics.median(timed_get(url) for _ in range(WARM_REQUESTS))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return first, warm


def _healthy_address(log: Path) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            try:
                urllib.request.urlopen(f"{found.group(1)}/healthz", timeout=5).read()
                return found.group(1)
            except OSError:
                pass  # not answering yet
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}")


def cold_start(study_slug: str) -> None:
    from survey.models import Study

    token = participant_start(study=Study.objects.get(slug=study_slug)).token
    connection.close()  # the server processes open their own
    rounds = [cold_start_round(token, WORK / "gunicorn.log") for _ in range(COLD_ROUNDS)]
    firsts = [first * 1000 for first, _ in rounds]
    warms = [warm * 1000 for _, warm in rounds]
    ratios = [first / warm for first, warm in rounds]
    print(f"\ncold start: gunicorn, 1 worker, first GET next after /healthz answers, {COLD_ROUNDS} boots")
    print(f"  first request: {min(firsts):.0f}-{max(firsts):.0f} ms", end="; ")
    print(f"warm median {min(warms):.0f}-{max(warms):.0f} ms")
    median, low, high = statistics.median(ratios), min(ratios), max(ratios)
    print(f"  first / warm: median {median:.2f}x (range {low:.2f}-{high:.2f})")


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    study = make_study(slug="bench")
    api_time, api_queries = measure(api_session, study.slug)
    page_time, page_queries = measure(page_session, study.slug)
    print(f"{SESSIONS} sessions of {study.questions.count()} questions each, SQLite, one process")
    print(f"{'path':<10}{'queries/request':>18}{'time vs API':>14}")
    print(f"{'API':<10}{api_queries:>18.1f}{1.0:>14.2f}")
    print(f"{'pages':<10}{page_queries:>18.1f}{page_time / api_time:>14.2f}")
    cold_start(study.slug)


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)  # the database, media and static files of this run
