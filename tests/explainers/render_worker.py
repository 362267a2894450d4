"""A real render worker in its own process: ``python -m tests.explainers.render_worker NAME POOL``.

It is ``celery -A config worker`` on the queue EXPLAINERS_RENDER_QUEUE names, with two test hooks set
by environment variables. RENDER_TEST_READY names a file touched once the worker consumes. With
RENDER_TEST_GATE, the first chunk this worker renders stops after writing its PNGs and before recording
them, writes {"pid", "keys"} to the gate's file and waits there to be killed: a worker dying mid-chunk.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from celery.signals import worker_ready  # noqa: E402
from django.conf import settings  # noqa: E402

from config.celery import app  # noqa: E402
from explainers.services import rendering  # noqa: E402

GATE_PATIENCE = 120  # seconds a gated chunk waits to be killed before it gives up and carries on


def gated(record: Callable[..., None], gate: Path) -> Callable[..., None]:
    def stop_once(**arguments: Any) -> None:
        try:  # only the first chunk to get here stops, in whichever process of the pool it runs
            os.close(os.open(gate.with_suffix(".taken"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return record(**arguments)
        keys = [question.key for question, _ in arguments["wanted"]]
        gate.with_suffix(".partial").write_text(json.dumps({"pid": os.getpid(), "keys": keys}))
        os.replace(gate.with_suffix(".partial"), gate)
        threading.Event().wait(GATE_PATIENCE)  # until the test kills this process
        return record(**arguments)

    return stop_once


@worker_ready.connect
def announce(**_: Any) -> None:
    if os.environ.get("RENDER_TEST_READY"):
        Path(os.environ["RENDER_TEST_READY"]).touch()


def main(name: str, pool: str) -> None:
    if os.environ.get("RENDER_TEST_GATE"):
        rendering.images_record = gated(rendering.images_record, Path(os.environ["RENDER_TEST_GATE"]))
    app.worker_main(
        [
            "worker",
            f"--queues={settings.EXPLAINERS_RENDER_QUEUE}",
            f"--pool={pool}",
            "--concurrency=1",
            f"--hostname={name}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
