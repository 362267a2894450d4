"""Small samples: the exact permutation p of Mann-Whitney U against a brute-force enumeration, its use by
default below 20 per group, and the bootstrap interval of a difference in mean accuracy."""

from __future__ import annotations

import io
import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from scipy.stats import mannwhitneyu

from analysis import stats
from analysis.resampling import ExactTooCostly, bootstrap_mean_difference_ci, exact_u_p
from analysis.results import AnalysisError, AnalysisOptions
from analysis.services import file_results, study_results
from tests.analysis.builders import make_scenario
from tests.analysis.paper import paper_responses_write


def brute_force_p(x: np.ndarray, y: np.ndarray, alternative: str) -> float:
    """Every split of the pooled values into groups of len(x) and len(y), each counted once."""
    pooled = np.concatenate([x, y])
    observed = stats.u_statistic(x, y)
    us = []
    for chosen in combinations(range(len(pooled)), len(x)):
        inside = np.isin(np.arange(len(pooled)), chosen)
        us.append(stats.u_statistic(pooled[inside], pooled[~inside]))
    at_most = np.mean(np.array(us) <= observed)
    at_least = np.mean(np.array(us) >= observed)
    return {"less": at_most, "greater": at_least, "two-sided": min(1.0, 2 * min(at_most, at_least))}[
        alternative
    ]


@pytest.mark.parametrize("alternative", stats.ALTERNATIVES)
def test_the_exact_p_is_the_share_of_every_split_of_tiny_tied_groups(alternative: str) -> None:
    generator = np.random.default_rng(3)
    for _ in range(40):
        n1, n2 = generator.integers(1, 7, size=2)
        # Accuracies out of 3 questions: heavily tied, as real ones are.
        x, y = generator.integers(0, 4, size=n1) / 3, generator.integers(0, 4, size=n2) / 3
        expected = brute_force_p(x, y, alternative)
        assert exact_u_p(x, y, alternative=alternative) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_without_ties_the_exact_p_is_scipys_exact_p() -> None:
    x, y = np.array([0.11, 0.52, 0.93, 0.34, 0.75]), np.array([0.26, 0.67, 0.88, 0.99])
    for alternative in stats.ALTERNATIVES:
        expected = mannwhitneyu(x, y, alternative=alternative, method="exact").pvalue
        assert exact_u_p(x, y, alternative=alternative) == pytest.approx(expected, rel=1e-12)


def test_groups_that_do_not_overlap_get_one_over_the_number_of_splits() -> None:
    # Three below three: only one of the 20 splits puts the lowest three together.
    p = exact_u_p(np.array([0.0, 0.1, 0.2]), np.array([0.5, 0.6, 0.7]), alternative="less")
    assert p == pytest.approx(1 / math.comb(6, 3))


def test_exact_is_the_default_below_20_per_group_and_normal_from_20() -> None:
    generator = np.random.default_rng(5)
    x, y = generator.integers(0, 15, size=19) / 14, generator.integers(0, 15, size=40) / 14
    small = stats.mann_whitney(x, y, alternative="less", method="auto")
    assert small.method == "exact"
    assert small.p == pytest.approx(exact_u_p(x, y, alternative="less"))
    assert small.z == stats.mann_whitney(x, y, alternative="less").z  # Z stays the normal deviate
    x20 = np.append(x, 0.5)
    large = stats.mann_whitney(x20, y, alternative="less", method="auto")
    assert large.method == "normal"
    expected = mannwhitneyu(x20, y, alternative="less", method="asymptotic", use_continuity=False).pvalue
    assert large.p == pytest.approx(expected, rel=1e-9)


def test_the_paper_reproduction_keeps_the_normal_approximation(tmp_path: Path) -> None:
    options = AnalysisOptions(mixed_model=False)
    tests = file_results(path=paper_responses_write(tmp_path / "paper.csv"), options=options)
    assert {test["method"] for test in tests.results["tests"].values()} == {"normal"}
    assert {pair["method"] for pair in tests.results["pairwise"]} == {"normal"}


def test_the_paper_data_under_the_exact_p_is_still_far_below_any_alpha(tmp_path: Path) -> None:
    path = paper_responses_write(tmp_path / "paper.csv")
    options = AnalysisOptions(p_method="exact", mixed_model=False)
    tests = file_results(path=path, options=options).results["tests"]
    assert tests["incorrect"]["method"] == "exact"
    assert tests["incorrect"]["u"] == 288.5
    assert 0 < tests["incorrect"]["p"] < 1e-9
    assert 0 < tests["correct"]["p"] < 1e-9


def test_groups_too_large_for_the_exact_p_are_refused_with_advice() -> None:
    big = np.linspace(0, 1, 3000)
    with pytest.raises(ExactTooCostly, match="use the normal approximation"):
        exact_u_p(big, big[::-1], alternative="less")


def test_an_exact_p_forced_on_groups_too_large_is_an_analysis_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("analysis.resampling.EXACT_MAX_CELLS", 1000)
    path = paper_responses_write(tmp_path / "paper.csv")
    with pytest.raises(AnalysisError, match="too costly for groups of 40 and 58: use the normal approx"):
        file_results(path=path, options=AnalysisOptions(p_method="exact", mixed_model=False))


def test_the_bootstrap_interval_of_constant_groups_is_their_difference() -> None:
    low, high = bootstrap_mean_difference_ci(np.full(5, 0.75), np.full(3, 0.25))
    assert (low, high) == pytest.approx((0.5, 0.5))


def test_the_bootstrap_interval_of_large_groups_is_close_to_the_normal_one() -> None:
    generator = np.random.default_rng(11)
    x, y = generator.binomial(14, 0.35, size=400) / 14, generator.binomial(14, 0.1, size=300) / 14
    difference = x.mean() - y.mean()
    half = 1.959964 * math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    low, high = bootstrap_mean_difference_ci(x, y, resamples=4000, seed=1)
    assert low == pytest.approx(difference - half, abs=0.1 * half)
    assert high == pytest.approx(difference + half, abs=0.1 * half)


def test_the_bootstrap_is_reproducible_from_its_seed() -> None:
    x, y = np.array([0.1, 0.4, 0.3, 0.9]), np.array([0.5, 0.2, 0.8])
    assert bootstrap_mean_difference_ci(x, y, seed=4) == bootstrap_mean_difference_ci(x, y, seed=4)
    assert bootstrap_mean_difference_ci(x, y, seed=4) != bootstrap_mean_difference_ci(x, y, seed=5)


def test_the_bootstrap_needs_a_value_in_each_group() -> None:
    with pytest.raises(ValueError, match="at least one value in each group"):
        bootstrap_mean_difference_ci(np.array([]), np.array([0.5]))


@pytest.mark.django_db
def test_the_report_says_which_p_each_test_used(admin_client: Client) -> None:
    study = make_scenario()
    out = io.StringIO()
    call_command("analyze_results", study=study.slug, stdout=out)
    # Model wrong: gradcam 0, 1/3 below pv 2/3, 1: one split in the 4!/(2!·2!) = 6 is as extreme.
    assert "U(GRADCAM) = 0, Z = -1.55, exact one-sided p = 0.17" in out.getvalue()
    assert "p exact by permutation where it says so" in out.getvalue()
    out = io.StringIO()
    call_command("analyze_results", study=study.slug, p_method="normal", format="json", stdout=out)
    normal = json.loads(out.getvalue())
    assert {test["method"] for test in normal["tests"].values()} == {"normal"}
    api = admin_client.get(f"/api/studies/{study.slug}/results/", {"p_method": "normal"}).json()
    assert api == normal
    page = admin_client.get(f"/admin/analysis/study/{study.slug}/results/").content.decode()
    assert "exact one-sided p = 0.17" in page


@pytest.mark.django_db
def test_the_difference_in_mean_accuracy_comes_with_its_bootstrap_interval() -> None:
    options = AnalysisOptions(mixed_model=False)
    tests = study_results(study=make_scenario(), options=options).results["tests"]
    wrong = tests["incorrect"]
    assert wrong["mean_difference"] == pytest.approx(1 / 6 - 5 / 6)
    low, high = wrong["bootstrap_ci"]
    # Resampling two participants per group: the extremes are 0 - 1 and 1/3 - 2/3.
    assert -1.0 <= low <= wrong["mean_difference"] <= high <= 1 / 3 - 2 / 3
    assert wrong["bootstrap"] == {
        "method": "percentile bootstrap: participants resampled with replacement within each condition",
        "resamples": 2000,
        "confidence": 0.95,
        "seed": 0,
    }
