"""Studies with any number of conditions: every condition reported, a Kruskal-Wallis test across them all,
and every pair compared with Holm's adjustment. Expected figures come straight from scipy on the
participants' accuracies worked out here."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from scipy.stats import kruskal, mannwhitneyu, norm

from analysis import report
from analysis.results import AnalysisOptions
from analysis.services import study_results
from tests.analysis.builders import make_scenario, make_scored_study

pytestmark = pytest.mark.django_db

N_CORRECT, N_WRONG = 4, 3
# (hits where the model was wrong, out of 3; hits where it was right, out of 4), one pair per participant.
HITS = {
    "gradcam": [(0, 4), (1, 4), (0, 3), (1, 4)],
    "pv": [(2, 2), (3, 3), (2, 2), (1, 4)],
    "none": [(1, 3), (1, 2), (2, 3)],
}
PAIRS = [("gradcam", "pv"), ("gradcam", "none"), ("pv", "none")]


def accuracies(subset: str) -> dict[str, np.ndarray]:
    index, out_of = (0, N_WRONG) if subset == "incorrect" else (1, N_CORRECT)
    return {key: np.array([hits[index] / out_of for hits in scores]) for key, scores in HITS.items()}


def holm_by_hand(p: list[float]) -> list[float]:
    """Three p-values: the smallest times 3, the next times 2 (at least the first), the largest as is."""
    first, second, third = sorted(range(3), key=lambda index: p[index])
    adjusted = [0.0] * 3
    adjusted[first] = min(1.0, 3 * p[first])
    adjusted[second] = min(1.0, max(adjusted[first], 2 * p[second]))
    adjusted[third] = min(1.0, max(adjusted[second], p[third]))
    return adjusted


@pytest.fixture
def three() -> dict:
    study = make_scored_study("three", HITS, n_correct=N_CORRECT, n_wrong=N_WRONG)
    return study_results(study=study, options=AnalysisOptions()).results


def test_table_1_has_a_row_for_each_of_three_conditions_in_the_studys_order(three: dict) -> None:
    # none, model wrong: 1/3, 1/3, 2/3, mean 4/9, SD 0.19245 (ddof=1), SE 1/9; model right: 3/4, 2/4, 3/4.
    assert report.table1_rows(three)[1:] == [
        ["GRADCAM (n=4)", "16.7% ± 9.6%", "93.8% ± 6.2%"],
        ["PV (n=4)", "66.7% ± 13.6%", "68.8% ± 12.0%"],
        ["NONE (n=3)", "44.4% ± 11.1%", "66.7% ± 8.3%"],
        ["Chance", "25.0%", "25.0%"],
    ]
    assert list(three["dropout"]) == ["gradcam", "pv", "none"]
    assert {row["condition"] for row in three["questions"]} == {"gradcam", "pv", "none"}


def test_it_reports_a_kruskal_wallis_test_across_three_conditions(three: dict) -> None:
    for subset in ("incorrect", "correct"):
        expected = kruskal(*accuracies(subset).values())
        omnibus = three["omnibus"][subset]
        assert omnibus["conditions"] == ["gradcam", "pv", "none"]
        assert omnibus["n"] == {"gradcam": 4, "pv": 4, "none": 3}
        assert omnibus["df"] == 2
        assert omnibus["h"] == pytest.approx(expected.statistic, rel=1e-12)
        assert omnibus["p"] == pytest.approx(expected.pvalue, rel=1e-12)
        assert omnibus["message"] is None


@pytest.fixture
def three_normal() -> dict:
    """The same study, its p by the normal approximation: the default is exact below 20 per group."""
    study = make_scored_study("three", HITS, n_correct=N_CORRECT, n_wrong=N_WRONG)
    return study_results(study=study, options=AnalysisOptions(p_method="normal")).results


def test_it_compares_every_pair_two_sided_with_holms_adjustment_within_each_subset(
    three_normal: dict,
) -> None:
    pairwise = three_normal["pairwise"]
    assert [(row["subset"], row["a"], row["b"]) for row in pairwise] == [
        (subset, a, b) for subset in ("incorrect", "correct") for a, b in PAIRS
    ]
    for subset in ("incorrect", "correct"):
        groups = accuracies(subset)
        rows = [row for row in pairwise if row["subset"] == subset]
        expected = [
            mannwhitneyu(
                groups[a], groups[b], alternative="two-sided", method="asymptotic", use_continuity=False
            )
            for a, b in PAIRS
        ]
        for row, (a, b), test in zip(rows, PAIRS, expected, strict=True):
            assert row["u"] == test.statistic
            assert row["p"] == pytest.approx(test.pvalue, rel=1e-9)
            # Z's sign says which way U leans from its mean n1·n2/2; its size gives the two-sided p.
            lean = np.sign(test.statistic - len(groups[a]) * len(groups[b]) / 2)
            assert row["z"] == pytest.approx(lean * norm.isf(test.pvalue / 2), rel=1e-9)
            assert row["rank_biserial"] == pytest.approx(
                2 * test.statistic / (len(groups[a]) * len(groups[b])) - 1
            )
        holm = holm_by_hand([test.pvalue for test in expected])
        assert [row["p_holm"] for row in rows] == pytest.approx(holm, rel=1e-9)


def test_the_configured_pair_keeps_the_papers_one_sided_test(three: dict) -> None:
    assert three["options"]["conditions"] == ["gradcam", "pv"]
    assert set(three["tests"]) == {"incorrect", "correct"}
    assert three["tests"]["incorrect"]["hypothesis"] == "Acc(gradcam) < Acc(pv)"


def test_the_json_the_command_prints_carries_the_omnibus_and_pairwise_tests(three: dict) -> None:
    out = io.StringIO()
    call_command("analyze_results", study="three", format="json", stdout=out)
    assert json.loads(out.getvalue()) == json.loads(json.dumps(three))


def test_with_two_conditions_each_subset_has_one_pair_whose_holm_p_is_its_p() -> None:
    results = study_results(study=make_scenario(), options=AnalysisOptions()).results
    for subset in ("incorrect", "correct"):
        (pair,) = [row for row in results["pairwise"] if row["subset"] == subset]
        assert (pair["a"], pair["b"]) == ("gradcam", "pv")
        assert pair["p_holm"] == pair["p"]
    assert results["omnibus"]["incorrect"]["df"] == 1


def test_the_pair_agrees_with_the_configured_test_when_that_is_two_sided() -> None:
    options = AnalysisOptions(alternative_incorrect="two-sided")
    results = study_results(study=make_scenario(), options=options).results
    test, pair = results["tests"]["incorrect"], results["pairwise"][0]
    assert (pair["u"], pair["z"], pair["p"]) == (test["u"], test["z"], test["p"])


def test_a_condition_nobody_finished_is_left_out_of_the_omnibus_test_with_a_note() -> None:
    study = make_scored_study(
        "one-empty", {"gradcam": [(0, 1), (1, 1)], "pv": [(1, 0), (1, 1)], "none": []}, n_correct=1, n_wrong=1
    )
    results = study_results(study=study, options=AnalysisOptions()).results
    omnibus = results["omnibus"]["incorrect"]
    assert (omnibus["conditions"], omnibus["df"]) == (["gradcam", "pv"], 1)
    assert omnibus["n"] == {"gradcam": 2, "pv": 2, "none": 0}
    assert omnibus["message"] == "No participants counted in 'none' for model wrong: left out."
    assert omnibus["p"] == pytest.approx(kruskal([0.0, 1.0], [1.0, 1.0]).pvalue)
    missing = [row for row in results["pairwise"] if "none" in (row["a"], row["b"])]
    assert all(row["p"] is None and row["p_holm"] is None for row in missing)
    json.dumps(results, allow_nan=False)


def test_with_fewer_than_two_conditions_counted_the_omnibus_test_is_a_message() -> None:
    study = make_scored_study("lonely", {"gradcam": [(0, 1)], "pv": [], "none": []}, n_correct=1, n_wrong=1)
    omnibus = study_results(study=study, options=AnalysisOptions()).results["omnibus"]["correct"]
    assert (omnibus["h"], omnibus["df"], omnibus["p"]) == (None, None, None)
    assert (
        omnibus["message"]
        == "Fewer than two conditions have participants counted for model right: no test yet."
    )


def test_identical_accuracies_across_three_conditions_give_a_message_instead_of_h() -> None:
    study = make_scored_study(
        "flat-three", {"gradcam": [(1, 1)], "pv": [(1, 1), (1, 1)], "none": [(1, 1)]}, n_correct=1, n_wrong=1
    )
    results = study_results(study=study, options=AnalysisOptions()).results
    omnibus = results["omnibus"]["incorrect"]
    assert (omnibus["h"], omnibus["p"], omnibus["df"]) == (None, None, 2)
    assert "zero variance" in omnibus["message"]
    assert all(row["p_holm"] is None and "zero variance" in row["message"] for row in results["pairwise"])


def test_the_text_report_prints_the_omnibus_tests_and_the_pairs_table_for_three_conditions(
    three: dict,
) -> None:
    text = report.results_render_text(three)
    h = three["omnibus"]["incorrect"]["h"]
    assert f"model wrong: GRADCAM, PV, NONE: H(2) = {h:.2f}, p = " in text
    assert "Every pair: two-sided Mann-Whitney U tests (no continuity correction)" in text
    first = three["pairwise"][0]
    row = next(line for line in text.splitlines() if line.startswith("model wrong   GRADCAM vs PV"))
    assert row.split()[-5:] == [
        f"{first['u']:g}",
        f"{first['z']:.2f}",
        f"{first['p']:.2g}",
        f"{first['p_holm']:.2g}",
        f"{first['rank_biserial']:.2f}",
    ]
    assert "PV vs NONE" in text


def test_the_text_report_of_two_conditions_leaves_out_the_pairs_that_repeat_its_test() -> None:
    text = report.results_render_text(study_results(study=make_scenario(), options=AnalysisOptions()).results)
    assert "Kruskal-Wallis" not in text
    assert "Every pair" not in text


def test_the_admin_page_shows_three_conditions_the_omnibus_tests_and_every_pair(admin_client: Client) -> None:
    make_scored_study("shown", HITS, n_correct=N_CORRECT, n_wrong=N_WRONG)
    page = admin_client.get(reverse("analysis-study-results", kwargs={"slug": "shown"})).content.decode()
    assert '<th scope="row">NONE (n=3)</th>' in page
    assert "<h2>Across the conditions</h2>" in page
    assert '<th scope="row">model right</th><td>PV vs NONE</td>' in page
    assert page.count('src="data:image/png;base64,') == 2
