"""Two gunicorn instances on one PostgreSQL: participants hop between them, nothing is duplicated."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from survey.models import Answer, Participant
from tests.factories import make_study
from tests.servers import gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARTICIPANTS = 12


def call(url: str, body: dict | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def take_part(servers: list[str], slug: str, index: int) -> list[int]:
    """Start on one server, then alternate; send every answer to both. Returns every status seen."""
    statuses = []
    status, started = call(f"{servers[index % 2]}/api/studies/{slug}/participants/", {})
    statuses.append(status)
    for step in range(started["total"] + 1):
        status, shown = call(f"{servers[step % 2]}/api/participants/{started['token']}/next/")
        statuses.append(status)
        if shown.get("done"):
            break
        answer = {"question": shown["question"], "option": shown["options"][0]["id"]}
        for server in (servers[step % 2], servers[(step + 1) % 2]):
            status, _ = call(f"{server}/api/participants/{started['token']}/answers/", answer)
            statuses.append(status)
    return statuses


def test_two_instances_share_one_database_without_duplicates_and_the_study_completes(
    tmp_path: Path, settings
) -> None:
    study = make_study(n_correct=3, n_wrong=2)
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    environment = {
        "DATABASE_URL": f"postgres://{db['USER']}@{host}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }

    with (
        gunicorn(tmp_path / "a.log", **environment) as first,
        gunicorn(tmp_path / "b.log", **environment) as second,
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        runs = list(pool.map(lambda i: take_part([first, second], study.slug, i), range(PARTICIPANTS)))

    seen = Counter(status for statuses in runs for status in statuses)
    assert set(seen) <= {200, 201}, seen  # 201 a stored answer, 200 the same answer again; no 5xx
    completed = Participant.objects.filter(study=study, status=Participant.Status.COMPLETED)
    assert completed.count() == PARTICIPANTS
    assert Answer.objects.filter(participant__study=study).count() == PARTICIPANTS * 5
    per_condition = Counter(Participant.objects.values_list("condition__key", flat=True))
    assert max(per_condition.values()) - min(per_condition.values()) <= 1
