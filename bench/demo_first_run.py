"""How long `make demo` takes to a ready survey: the first run (draw, train, render) and a cached one.

    python bench/demo_first_run.py [--budget quick] [--keep DIR]

Runs ``manage.py demo_setup`` as `make demo` does, in a scratch folder (its own SQLite database, media
and work folder), twice: the first run trains, the second finds the networks cached. It prints each
phase's time, the wall and CPU time of each run and the load average around it: on a shared machine
the wall time grows with the load, while the CPU time (summed over the two cores) moves much less, so
on a quiet two-core machine a run takes about its CPU time divided by two, and no less. Not part of
`make bench`: the first run takes minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASE_DONE = re.compile(r"^(dataset|classifier|decoder|render): done in (.+)$")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def demo_setup(scratch: Path, budget: str) -> tuple[str, float, float, str, str]:
    """One run of the command: its output, wall and CPU seconds, and the load average before and after."""
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{scratch / 'demo.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "MEDIA_ROOT": str(scratch / "media"),
        "EXPLAINERS_RENDER_ROOT": str(scratch / "renders"),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    command = [*manage, "demo_setup", "--budget", budget, "--work-dir", str(scratch / "work")]
    before, cpu, start = load(), children_cpu(), time.monotonic()
    done = subprocess.run(command, env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    return done.stdout, time.monotonic() - start, children_cpu() - cpu, before, load()


def report(name: str, run: tuple[str, float, float, str, str]) -> None:
    output, wall, cpu, before, after = run
    print(
        f"{name}: wall {wall:.0f} s, CPU {cpu:.0f} s (quiet 2 cores: about {cpu / 2:.0f} s and up), "
        f"load average {before} before, {after} after"
    )
    for line in output.splitlines():
        if PHASE_DONE.match(line) or line.startswith(("Demo networks:", "Demo bundle rendered")):
            print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="quick", help="demo_setup --budget (default quick).")
    parser.add_argument("--keep", type=Path, help="Run in this folder and keep it, instead of a scratch one.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="demo-first-run-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"demo_setup --budget {args.budget}, {os.cpu_count()} CPUs, in {folder}")
        report("first run", demo_setup(folder, args.budget))
        (folder / "demo.sqlite3").unlink()  # a new database: the study is imported again, from the cache
        report("cached run", demo_setup(folder, args.budget))


if __name__ == "__main__":
    main()
