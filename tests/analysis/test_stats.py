"""The statistics against values worked out by hand on small arrays."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from analysis import stats
from analysis.responses import responses_frame

# x = [1, 2, 3], y = [2, 4]. Pairs x beats y: (3, 2) = 1, plus the tie (2, 2) = 0.5, so U(x) = 1.5.
# Ranks 1, 2.5, 2.5, 4, 5; one tie of two: sum(t³ - t) = 6.
# Var(U) = 3·2/12 · (6 - 6/(5·4)) = 2.85; Z = (1.5 - 3) / sqrt(2.85).
X, Y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0])
SD = math.sqrt(2.85)
Z = -1.5 / SD


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def test_u_counts_pairs_where_the_first_group_wins_and_ties_as_half() -> None:
    assert stats.u_statistic(X, Y) == 1.5
    assert stats.u_statistic(Y, X) == 6 - 1.5


def test_the_variance_of_u_is_tie_corrected() -> None:
    assert stats.u_sd(X, Y) == pytest.approx(SD, rel=1e-12)


def test_z_and_two_sided_p_match_the_hand_computation() -> None:
    result = stats.mann_whitney(X, Y, alternative="two-sided")
    assert result.z == pytest.approx(Z, rel=1e-12)
    assert result.p == pytest.approx(2 * normal_cdf(-abs(Z)), rel=1e-9)
    assert result.message is None


def test_one_sided_p_is_the_lower_tail_for_less_and_upper_for_greater() -> None:
    assert stats.mann_whitney(X, Y, alternative="less").p == pytest.approx(normal_cdf(Z), rel=1e-9)
    assert stats.mann_whitney(X, Y, alternative="greater").p == pytest.approx(1 - normal_cdf(Z), rel=1e-9)


def test_the_continuity_correction_moves_u_half_a_unit_towards_its_mean() -> None:
    result = stats.mann_whitney(X, Y, alternative="less", continuity=True)
    assert result.z == pytest.approx((1.5 - 3 + 0.5) / SD, rel=1e-12)
    assert result.p == pytest.approx(normal_cdf((1.5 - 3 + 0.5) / SD), rel=1e-9)


def test_rank_biserial_is_positive_when_the_first_group_scores_higher() -> None:
    assert stats.mann_whitney(X, Y).rank_biserial == pytest.approx(2 * 1.5 / 6 - 1)
    assert stats.mann_whitney(np.array([3.0, 4.0]), np.array([1.0, 2.0])).rank_biserial == 1.0


def test_groups_that_do_not_overlap_get_a_point_interval_and_a_note() -> None:
    result = stats.mann_whitney(np.array([3.0, 4.0]), np.array([1.0, 2.0]))
    assert result.rank_biserial_ci == (1.0, 1.0)
    assert "do not overlap" in result.message
    assert result.p is not None


def test_the_rank_biserial_interval_is_the_fisher_z_one() -> None:
    # tanh(atanh(-0.5) ± 1.959964 · sqrt((3 + 2 + 1) / (3·3·2)))
    low, high = stats.mann_whitney(X, Y).rank_biserial_ci
    assert low == pytest.approx(-0.9329771956, abs=1e-9)
    assert high == pytest.approx(0.5243203084, abs=1e-9)


@pytest.mark.parametrize("alternative", stats.ALTERNATIVES)
@pytest.mark.parametrize("continuity", [False, True])
def test_our_z_gives_scipys_p_on_tied_accuracies(alternative: str, continuity: bool) -> None:
    generator = np.random.default_rng(7)
    for _ in range(20):
        x = generator.integers(0, 15, size=generator.integers(1, 30)) / 14
        y = generator.integers(0, 15, size=generator.integers(1, 30)) / 14
        if stats.u_sd(x, y) == 0:
            continue
        result = stats.mann_whitney(x, y, alternative=alternative, continuity=continuity)
        expected = mannwhitneyu(x, y, alternative=alternative, method="asymptotic", use_continuity=continuity)
        assert result.u == expected.statistic
        assert stats.z_p(result.z, alternative) == pytest.approx(expected.pvalue, rel=1e-9)


def test_when_every_value_is_tied_z_and_p_are_none_with_a_reason() -> None:
    result = stats.mann_whitney(np.array([0.5, 0.5]), np.array([0.5]))
    assert (result.u, result.z, result.p, result.rank_biserial) == (1.0, None, None, 0.0)
    assert "zero variance" in result.message


def test_an_empty_group_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least one value in each group"):
        stats.mann_whitney(np.array([]), np.array([0.5]))


def test_the_summary_uses_the_sample_standard_deviation() -> None:
    summary = stats.accuracy_summary(np.array([0.0, 0.5, 1.0]))
    assert summary == {"n": 3, "mean": 0.5, "se": pytest.approx(0.5 / math.sqrt(3)), "median": 0.5}


def test_the_summary_of_one_or_no_values_leaves_undefined_figures_empty() -> None:
    assert stats.accuracy_summary(np.array([0.25])) == {"n": 1, "mean": 0.25, "se": None, "median": 0.25}
    assert stats.accuracy_summary(np.array([])) == {"n": 0, "mean": None, "se": None, "median": None}


def _answers(participant: str, condition: str, pattern: str) -> list[tuple]:
    """One answer per letter: R/r hit/miss where the model was right, W/w where it was wrong, ? can't tell."""
    rows = []
    for position, letter in enumerate(pattern, start=1):
        model_correct = letter in "Rr"
        answer = {"R": "cat", "W": "cat", "r": "dog", "w": "dog", "?": "cant_tell"}[letter]
        question = f"q{position}"
        rows.append(
            (participant, condition, question, model_correct, "cat", answer, answer == "cat", position, 100)
        )
    return rows


def test_scores_count_completed_participants_and_partial_ones_only_with_enough_answers() -> None:
    responses = responses_frame(_answers("a", "gradcam", "RRrWw?") + _answers("b", "pv", "RW"))
    participants = pd.DataFrame(
        {"participant": ["a", "b"], "condition": ["gradcam", "pv"], "status": ["completed", "abandoned"]}
    )
    scores = stats.participant_scores(responses, participants)
    assert scores[["participant", "subset", "answers", "correct", "cant_tell"]].values.tolist() == [
        ["a", "correct", 3, 2, 0],
        ["a", "incorrect", 3, 1, 1],
    ]
    assert scores["accuracy"].tolist() == pytest.approx([2 / 3, 1 / 3])
    with_partial = stats.participant_scores(responses, participants, min_answers=1)
    assert sorted(with_partial["participant"]) == ["a", "a", "b", "b"]
    assert set(stats.participant_scores(responses, participants, min_answers=2)["participant"]) == {"a"}


def test_dropout_counts_each_status_per_condition() -> None:
    participants = pd.DataFrame(
        {
            "participant": list("abcd"),
            "condition": ["gradcam", "gradcam", "gradcam", "pv"],
            "status": ["completed", "abandoned", "in_progress", "completed"],
        }
    )
    assert stats.dropout_counts(participants, ["gradcam", "pv", "other"]) == {
        "gradcam": {"started": 3, "completed": 1, "abandoned": 1, "in_progress": 1},
        "pv": {"started": 1, "completed": 1, "abandoned": 0, "in_progress": 0},
        "other": {"started": 0, "completed": 0, "abandoned": 0, "in_progress": 0},
    }


def test_question_accuracy_follows_the_given_question_and_condition_order() -> None:
    responses = responses_frame(_answers("b", "pv", "Rw") + _answers("a", "gradcam", "r?"))
    table = stats.question_accuracy(responses, question_order=["q2", "q1"], condition_order=["gradcam", "pv"])
    assert table[["question", "condition", "n", "accuracy", "cant_tell_share"]].values.tolist() == [
        ["q2", "gradcam", 1, 0.0, 1.0],
        ["q2", "pv", 1, 0.0, 0.0],
        ["q1", "gradcam", 1, 0.0, 0.0],
        ["q1", "pv", 1, 1.0, 0.0],
    ]


def test_the_pure_modules_import_without_django() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    check = (
        "import sys\n"
        "import analysis.plots, analysis.responses, analysis.results, analysis.stats\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=root, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_counted_responses_keep_only_the_subsets_each_participant_is_counted_in() -> None:
    responses = responses_frame(
        [
            ("a", "pv", "q1", True, "cat", "cat", True, 1, 1),
            ("a", "pv", "q2", False, "dog", "dog", True, 2, 1),
            ("b", "pv", "q1", True, "cat", "cow", False, 1, 1),
        ]
    )
    scores = pd.DataFrame({"participant": ["a", "b"], "subset": ["correct", "incorrect"]})
    assert stats.counted_responses(responses, scores)["question"].tolist() == ["q1"]


def test_holm_multiplies_the_ith_smallest_p_by_m_minus_i_plus_one_and_keeps_their_order() -> None:
    # Sorted: 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 raised to 0.06 to keep the order.
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06], rel=1e-12)


def test_holm_is_monotonic_in_p_capped_at_one_and_never_below_the_raw_p() -> None:
    raw = [0.6, 0.2, 0.9, 0.01, 0.2]  # 0.6 · 2 = 1.2: capped
    adjusted = stats.holm(raw)
    by_raw = [adjusted[index] for index in np.argsort(raw, kind="stable")]
    assert by_raw == sorted(by_raw)
    assert max(adjusted) == 1.0
    assert all(p <= q for p, q in zip(raw, adjusted, strict=True))
    assert adjusted[3] == pytest.approx(0.05)


def test_holm_leaves_a_single_p_alone_and_refuses_what_is_no_p() -> None:
    assert stats.holm([0.04]) == [0.04]
    assert stats.holm([]) == []
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        stats.holm([0.5, float("nan")])


def test_kruskal_wallis_matches_the_hand_computation_with_ties() -> None:
    # Ranks of 1 2 2 3 | 4 5 6 by group: [1, 2.5, 4], [2.5, 5], [6, 7]; N = 7, rank sums 7.5, 7.5, 13.
    # H = 12/(7·8)·(7.5²/3 + 7.5²/2 + 13²/2) - 3·8, over the tie correction 1 - (2³ - 2)/(7³ - 7).
    h = (12 / 56 * (7.5**2 / 3 + 7.5**2 / 2 + 13**2 / 2) - 24) / (1 - 6 / 336)
    result = stats.kruskal_wallis([np.array([1.0, 2, 3]), np.array([2.0, 4]), np.array([5.0, 6])])
    assert result.h == pytest.approx(h, rel=1e-12)
    assert result.df == 2
    assert result.p == pytest.approx(math.exp(-h / 2), rel=1e-9)  # chi-squared, 2 df: exp(-H/2)
    assert result.message is None


def test_kruskal_wallis_on_identical_values_gives_a_reason_instead_of_h() -> None:
    result = stats.kruskal_wallis([np.array([0.5, 0.5]), np.array([0.5]), np.array([0.5])])
    assert (result.h, result.p, result.df) == (None, None, 2)
    assert "zero variance" in result.message


def test_kruskal_wallis_needs_two_non_empty_groups() -> None:
    with pytest.raises(ValueError, match="at least two groups"):
        stats.kruskal_wallis([np.array([0.5, 1.0])])
    with pytest.raises(ValueError, match="at least two groups"):
        stats.kruskal_wallis([np.array([0.5, 1.0]), np.array([])])


def test_pairwise_tests_every_pair_in_order_two_sided_with_holm() -> None:
    groups = {"a": np.array([0.0, 0.1, 0.2]), "b": np.array([0.5, 0.6, 0.7]), "c": np.array([0.15, 0.9])}
    tests = stats.pairwise_mann_whitney(groups)
    assert [(test.a, test.b) for test in tests] == [("a", "b"), ("a", "c"), ("b", "c")]
    for test in tests:
        x, y = groups[test.a], groups[test.b]
        expected = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=False)
        assert (test.n_a, test.n_b, test.u) == (len(x), len(y), expected.statistic)
        assert test.p == pytest.approx(expected.pvalue, rel=1e-9)
        assert stats.z_p(test.z, "two-sided") == pytest.approx(test.p, rel=1e-9)
        assert test.message is None  # a and b do not overlap, but the pairs report no interval to note
    assert [test.p_holm for test in tests] == pytest.approx(stats.holm([test.p for test in tests]))


def test_a_pair_without_a_p_is_left_out_of_holm_with_a_reason() -> None:
    groups = {"a": np.array([0.0, 0.5]), "b": np.array([1.0, 0.75]), "c": np.array([])}
    ab, ac, bc = stats.pairwise_mann_whitney(groups)
    assert (ac.u, ac.p, ac.p_holm) == (None, None, None)
    assert bc.message == "No participants counted in 'c': no test yet."
    assert ab.p_holm == ab.p  # the only p: nothing to adjust for
