"""Planning the sample size: the planner against simulations written here, the smallest n, and the
command, its sources (a study, a responses file, the paper's scores) and the admin's planner."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from PIL import Image
from scipy.stats import norm

from analysis.paper import paper_scores
from analysis.planning import Pilot, PlanSettings, sample_size_plan, simulated_power
from analysis.report import mean_se
from analysis.results import AnalysisError
from tests.analysis.builders import make_scenario, make_scored_study
from tests.analysis.paper import PER_PARTICIPANT, paper_responses_write

# Two pilots of 40, accuracies out of 14 questions, close enough for a power between the extremes.
GENERATOR = np.random.default_rng(2024)
LOW = GENERATOR.binomial(14, 0.30, size=40) / 14
HIGH = GENERATOR.binomial(14, 0.42, size=40) / 14


def normal_p_less(x: np.ndarray, y: np.ndarray) -> float:
    """P(U <= u) by the normal approximation, tie-corrected, written out from the textbook formulas."""
    n1, n2 = len(x), len(y)
    u = float((x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum())
    _, ties = np.unique(np.concatenate([x, y]), return_counts=True)
    n = n1 + n2
    variance = n1 * n2 / 12 * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1)))
    return 1.0 if variance == 0 else float(norm.cdf((u - n1 * n2 / 2) / math.sqrt(variance)))


@cache
def splits(total: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every way to pick `size` of `total` positions: those picked (splits, size) and the rest."""
    chosen = np.array(list(combinations(range(total), size)))
    others = np.array([np.setdiff1d(np.arange(total), row) for row in chosen])
    return chosen, others


def permutation_p_less(x: np.ndarray, y: np.ndarray) -> float:
    """The share of every split of the pooled values whose U (pairs won, ties one half) is at most the
    observed one."""
    pooled = np.concatenate([x, y])
    chosen, others = splits(len(pooled), len(x))
    first, second = pooled[chosen][:, :, None], pooled[others][:, None, :]  # (splits, n1, 1), (splits, 1, n2)
    u = (first > second).sum(axis=(1, 2)) + 0.5 * (first == second).sum(axis=(1, 2))
    observed = (x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum()
    return float(np.mean(u <= observed))


def independent_power(
    low: np.ndarray, high: np.ndarray, n: int, *, test: Callable, simulations: int, seed: int
) -> float:
    """Draw n from each pilot, test, count p < 0.05: one study at a time, with a generator of its own."""
    generator = np.random.default_rng(seed)
    hits = 0
    for _ in range(simulations):
        x, y = generator.choice(low, size=n), generator.choice(high, size=n)
        tied = np.ptp(np.concatenate([x, y])) == 0
        hits += (not tied) and test(x, y) < 0.05
    return hits / simulations


def within_monte_carlo_error(a: float, b: float, simulations: int) -> bool:
    """Two independent estimates of one power agree within four standard errors of their difference."""
    spread = max(a * (1 - a), b * (1 - b), 0.01)
    return abs(a - b) <= 4 * math.sqrt(2 * spread / simulations)


@pytest.mark.parametrize("n", [20, 30])
def test_with_the_normal_approximation_the_power_is_an_independent_simulations(n: int) -> None:
    settings = PlanSettings(alternative="less", simulations=600, seed=1)
    planned = simulated_power(LOW, HIGH, n=n, settings=settings)
    expected = independent_power(LOW, HIGH, n, test=normal_p_less, simulations=600, seed=99)
    assert 0.1 < expected < 0.95  # between the extremes, or the comparison says little
    assert within_monte_carlo_error(planned, expected, 600), (planned, expected)


@pytest.mark.parametrize("n", [4, 5])
def test_below_20_per_group_the_power_is_an_exact_permutation_tests(n: int) -> None:
    low, high = np.array([0.0, 0.1, 0.2, 0.3]), np.array([0.2, 0.4, 0.5, 0.6])
    settings = PlanSettings(alternative="less", simulations=300, seed=2)
    expected = independent_power(low, high, n, test=permutation_p_less, simulations=300, seed=98)
    assert 0.1 < expected < 0.95
    planned = simulated_power(low, high, n=n, settings=settings)
    assert within_monte_carlo_error(planned, expected, 300), (planned, expected)


def test_the_smallest_n_is_found_between_grid_points() -> None:
    # Groups that never overlap: the exact one-sided p is 1/C(2n, n): 0.05 at n = 3 (not below alpha),
    # 1/70 at n = 4. So the power is 0 up to 3 and 1 from 4 on.
    pilot = Pilot(conditions=("gradcam", "pv"), accuracies=(np.zeros(5), np.ones(5)))
    plan = sample_size_plan(pilot, PlanSettings(alternative="less", simulations=20, max_n=10))
    assert plan["n_per_condition"] == 4
    assert plan["power"] == {"2": 0.0, "3": 0.0, "4": 1.0, "5": 1.0, "10": 1.0}
    assert (plan["simulations"], plan["seed"]) == (20, 0)


def test_a_target_out_of_reach_gives_no_n() -> None:
    same = np.array([0.2, 0.5, 0.8])
    pilot = Pilot(conditions=("a", "b"), accuracies=(same, same))
    plan = sample_size_plan(pilot, PlanSettings(simulations=50, max_n=10, power=0.9))
    assert plan["n_per_condition"] is None
    assert list(plan["power"]) == ["5", "10"]


def test_settings_that_cannot_apply_are_refused_with_every_problem() -> None:
    with pytest.raises(AnalysisError) as caught:
        PlanSettings(alpha=1.5, simulations=1)
    assert caught.value.extra["problems"] == [
        "alpha must lie between 0 and 1, got 1.5",
        "simulations must be at least 10, got 1",
    ]


def test_the_shipped_paper_scores_are_the_reference_and_give_table_1() -> None:
    shipped = Path(__file__).resolve().parents[2] / "analysis" / "data" / "paper_survey_per_participant.csv"
    assert shipped.read_text() == PER_PARTICIPANT.read_text()
    scores = paper_scores()
    cells = {
        (key, subset): mean_se(
            {
                "mean": rows["accuracy"].mean(),
                "se": rows["accuracy"].std(ddof=1) / math.sqrt(len(rows)),
            }
        )
        for (key, subset), rows in scores.groupby(["condition", "subset"])
    }
    assert cells == {
        ("gradcam", "incorrect"): "8.3% ± 1.3%",
        ("gradcam", "correct"): "95.9% ± 0.7%",
        ("pv", "incorrect"): "35.0% ± 3.0%",
        ("pv", "correct"): "75.5% ± 2.5%",
    }


def plan_json(**options: object) -> dict:
    out = io.StringIO()
    call_command("plan_sample_size", format="json", stdout=out, stderr=io.StringIO(), **options)
    return json.loads(out.getvalue())


def test_the_command_plans_from_the_papers_scores_as_json(tmp_path: Path) -> None:
    plan = plan_json(paper=True, simulations=100, max_n=20, seed=3, plots=str(tmp_path))
    assert {"n_per_condition", "power", "simulations", "seed"} <= set(plan)
    assert (plan["simulations"], plan["seed"]) == (100, 3)
    assert plan["pilot"] == {"gradcam": 58, "pv": 40}
    assert plan["hypothesis"] == "Acc(gradcam) < Acc(pv)"
    assert all(isinstance(n, str) and 0 <= power <= 1 for n, power in plan["power"].items())
    assert plan["power"][str(plan["n_per_condition"])] >= 0.8
    with Image.open(tmp_path / "power_curve.png") as image:
        assert (image.format, image.size) == ("PNG", (800, 450))


def test_the_text_report_states_the_test_the_pilot_and_the_answer() -> None:
    out = io.StringIO()
    call_command("plan_sample_size", paper=True, subset="correct", simulations=50, max_n=10, stdout=out)
    text = out.getvalue()
    assert "model right: H1 Acc(Grad-CAM) > Acc(PV), one-sided alpha = 0.05, target power 80.0%" in text
    assert "Pilot participants: Grad-CAM 58, PV 40. 50 simulated studies per n (seed 0)" in text
    assert "Smallest n per condition that reaches the target: " in text
    assert "n per condition   power" in text


@pytest.mark.django_db
def test_a_study_and_its_exported_responses_give_the_same_plan(tmp_path: Path) -> None:
    study = make_scored_study(
        "pilot", {"gradcam": [(0, 2), (1, 2), (0, 1)], "pv": [(2, 1), (1, 2), (2, 2)]}, n_correct=2, n_wrong=2
    )
    path = tmp_path / "responses.csv"
    call_command("export_responses", study.slug, str(path), stderr=io.StringIO())
    from_study = plan_json(study=study.slug, simulations=40, max_n=10)
    assert plan_json(responses=str(path), simulations=40, max_n=10) == from_study
    assert from_study["pilot"] == {"gradcam": 3, "pv": 3}


def test_the_paper_file_as_responses_gives_the_paper_plan(tmp_path: Path) -> None:
    path = paper_responses_write(tmp_path / "paper.csv")
    options = {"simulations": 60, "max_n": 10, "conditions": "pv,gradcam", "alternative": "greater"}
    assert plan_json(responses=str(path), **options) == plan_json(paper=True, **options)


@pytest.mark.django_db
def test_a_pilot_too_small_or_a_missing_study_is_a_clear_error() -> None:
    study = make_scored_study("tiny", {"gradcam": [(0, 1)], "pv": [(1, 1), (1, 0)]}, n_correct=1, n_wrong=1)
    with pytest.raises(CommandError, match="The pilot needs two participants at least in 'gradcam'"):
        plan_json(study=study.slug)
    with pytest.raises(CommandError, match="No study with slug 'nope'"):
        plan_json(study="nope")
    with pytest.raises(CommandError, match=r"the target power must lie between 0 and 1, got 2\.0"):
        plan_json(paper=True, power=2.0)


@pytest.mark.django_db
def test_the_results_page_plans_with_the_study_as_pilot(admin_client: Client) -> None:
    study = make_scenario()
    url = f"/admin/analysis/study/{study.slug}/results/"
    page = admin_client.get(url).content.decode()
    assert "<h2>Plan the sample size</h2>" in page
    assert "Smallest n per condition" not in page
    asked = {"plan-subset": "correct", "plan-alpha": 0.05, "plan-power": 0.8, "plan-simulations": 20}
    asked |= {"plan-max_n": 6, "plan-seed": 0, "min_answers": 2, "skip_mixed_model": "on"}
    planned = admin_client.get(url, asked).content.decode()
    assert "Pilot participants: GRADCAM 2, PV 3." in planned  # the page's own min_answers counted
    assert '<img src="data:image/png;base64,' in planned
    assert '<input type="hidden" name="min_answers" value="2">' in planned


def test_the_new_analysis_modules_import_without_django() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    check = (
        "import sys\n"
        "import analysis.exclusions, analysis.items, analysis.mixed_model, analysis.paper\n"
        "import analysis.planning, analysis.resampling\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=root, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
