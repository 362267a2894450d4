"""Run every benchmark in bench/ (files named bench_*.py), one after another, and print their tables.

Benchmarks report ratios measured side by side in one run: absolute times on shared machines are noise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(BENCH_DIR.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=BENCH_DIR.parent, check=False)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
