"""The participant path loads no heavy library, and the WSGI app is warm once imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
