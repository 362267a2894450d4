"""The house has one direction: import-linter's contracts (pyproject.toml) hold on the code."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_layers_run_demo_explainers_survey_core_with_analysis_beside_explainers() -> None:
    layers = next(c for c in contracts() if c["type"] == "layers")

    assert layers["layers"] == ["demo", "explainers | analysis", "survey", "core"]


def test_explainers_nn_may_not_import_django() -> None:
    pure = next(c for c in contracts() if c.get("source_modules") == ["explainers.nn"])

    assert "django" in pure["forbidden_modules"]


def test_every_import_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")

    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
