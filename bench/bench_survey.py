"""Survey request cost: one participant's whole session through the API and through the pages.

Both run side by side on the same throw-away SQLite database in one process; the table reports the
ratio of their times and the number of SQL queries per request, which is what regresses first.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
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
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tests.factories import make_study  # noqa: E402

SESSIONS = 8


def api_session(client: Client, slug: str) -> int:
    token = client.post(f"/api/studies/{slug}/participants/").json()["token"]
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
    response = client.post(f"/s/{slug}/", {"consent": "on"}, follow=True)
    response = client.post(response.redirect_chain[-1][0], follow=True)  # the introduction's Continue
    requests = 2
    while "upcoming" in (response.context or {}):
        upcoming = response.context["upcoming"]
        option = upcoming.options[0][0]
        response = client.post(
            response.request["PATH_INFO"], {"question": upcoming.question.pk, "option": option}, follow=True
        )
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


if __name__ == "__main__":
    main()
