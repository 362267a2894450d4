"""The in-process survey benchmark's sessions do what they claim: a whole survey each. Nothing is timed.

The benchmark sets its own environment and SQLite database when imported, so it runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SESSIONS = """
import json, bench.bench_survey as bench
from django.core.management import call_command
from django.test import Client
from survey.models import Answer
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
study = bench.make_study(slug="bench")
counts = {}
for name, session in (("api", bench.api_session), ("pages", bench.page_session)):
    before = Answer.objects.count()
    requests = session(Client(), study.slug)
    counts[name] = {"requests": requests, "answers": Answer.objects.count() - before}
print(json.dumps(counts))
"""


def test_each_benchmarked_session_answers_every_question(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env["TMPDIR"] = str(tmp_path)  # the benchmark's database and static files, removed with the test's
    done = subprocess.run(
        [sys.executable, "-c", SESSIONS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    # The API: the start, a fetch and an answer per question, the final fetch. The pages: the consent, the
    # introduction, then one form post (with the page it leads to) per question.
    assert counts["api"] == {"requests": 62, "answers": 30}
    assert counts["pages"] == {"requests": 32, "answers": 30}
