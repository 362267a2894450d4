"""Statistics of a study, as pure functions on arrays and DataFrames (no database here).

The unit of analysis is a participant's accuracy in one subset of questions: the share of answers that
name the model's prediction, among the questions where the model was wrong ("incorrect") or right
("correct"). "I just can't tell" counts as a wrong guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import kruskal, mannwhitneyu, norm, rankdata

from analysis.resampling import exact_u_p
from survey.constants import CANT_TELL

SUBSETS = ("incorrect", "correct")
SUBSET_LABELS = {"incorrect": "model wrong", "correct": "model right"}
# Four classes are offered; "I just can't tell" is left out of the chance level.
CHANCE = 0.25
ALTERNATIVES = ("less", "greater", "two-sided")
ALTERNATIVE_SYMBOLS = {"less": "<", "greater": ">", "two-sided": "≠"}
CI_METHOD = "Fisher z: tanh(atanh(r) ± z(0.975)·sqrt((n1+n2+1)/(3·n1·n2)))"
# How a Mann-Whitney p is found: "auto" is exact when either group has fewer than EXACT_BELOW values.
P_METHODS = ("auto", "exact", "normal")
EXACT_BELOW = 20


@dataclass(frozen=True)
class MannWhitney:
    """A Mann-Whitney U test of x against y. U counts pairs where x beats y (ties count one half)."""

    u: float
    z: float | None
    p: float | None
    # 2U/(n1·n2) - 1 = P(x > y) - P(x < y): positive when x tends to be higher.
    rank_biserial: float
    rank_biserial_ci: tuple[float, float]
    message: str | None = None
    method: str = "normal"  # how p was found: "exact" (permutation) or "normal" (approximation)


def p_method(requested: str, n1: int, n2: int) -> str:
    """The method a test of groups of n1 and n2 uses: "auto" is exact below EXACT_BELOW per group."""
    if requested not in P_METHODS:
        raise ValueError(f"The p method must be one of {', '.join(P_METHODS)}, got {requested!r}")
    if requested == "auto":
        return "exact" if min(n1, n2) < EXACT_BELOW else "normal"
    return requested


def subset_of(model_correct: pd.Series) -> pd.Series:
    return model_correct.map({True: "correct", False: "incorrect"})


def participant_scores(
    responses: pd.DataFrame, participants: pd.DataFrame, *, min_answers: int | None = None
) -> pd.DataFrame:
    """One row per counted participant and subset: answers, correct, cant_tell, accuracy.

    Completed participants always count; partial ones (any other status) count in a subset where they
    gave at least `min_answers` answers, and never when `min_answers` is None.
    """
    frame = responses.assign(subset=subset_of(responses["model_correct"]), cant_tell=_is_cant_tell(responses))
    grouped = (
        frame.groupby(["participant", "condition", "subset"], sort=False)
        .agg(answers=("is_correct", "size"), correct=("is_correct", "sum"), cant_tell=("cant_tell", "sum"))
        .reset_index()
    )
    status = grouped["participant"].map(participants.set_index("participant")["status"])
    counted = status.eq("completed")
    if min_answers is not None:
        counted |= grouped["answers"] >= min_answers
    scores = grouped[counted].reset_index(drop=True)
    return scores.assign(accuracy=scores["correct"] / scores["answers"])


def counted_responses(responses: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The answers behind `scores`: those of each participant in each subset where they were counted."""
    answered = pd.MultiIndex.from_arrays([responses["participant"], subset_of(responses["model_correct"])])
    counted = pd.MultiIndex.from_frame(scores[["participant", "subset"]])
    return responses[answered.isin(counted)]


def _is_cant_tell(responses: pd.DataFrame) -> pd.Series:
    return responses["answer"].eq(CANT_TELL)


def accuracy_summary(accuracy: np.ndarray) -> dict[str, float | int | None]:
    """n, mean, standard error (sample SD with ddof=1 over sqrt(n)) and median; None where undefined."""
    values = np.asarray(accuracy, dtype=float)
    n = len(values)
    return {
        "n": n,
        "mean": float(values.mean()) if n else None,
        "se": float(values.std(ddof=1) / math.sqrt(n)) if n >= 2 else None,
        "median": float(np.median(values)) if n else None,
    }


def u_statistic(x: np.ndarray, y: np.ndarray) -> float:
    """U of x: pairs (x_i, y_j) with x_i > y_j, plus one half for each tie."""
    ranks = rankdata(np.concatenate([x, y]))
    return float(ranks[: len(x)].sum() - len(x) * (len(x) + 1) / 2)


def u_sd(x: np.ndarray, y: np.ndarray) -> float:
    """Standard deviation of U under H0, with the tie correction sum(t³ - t) / (n(n - 1))."""
    n1, n2 = len(x), len(y)
    n = n1 + n2
    _, ties = np.unique(np.concatenate([x, y]), return_counts=True)
    tie_term = float((ties.astype(float) ** 3 - ties).sum())
    return math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))


def u_z(u: float, n1: int, n2: int, sd: float, *, alternative: str, continuity: bool) -> float:
    """Normal deviate of U; the continuity correction moves it half a unit towards the null."""
    deviation = u - n1 * n2 / 2
    if continuity:
        if alternative == "two-sided":
            deviation = math.copysign(max(abs(deviation) - 0.5, 0.0), deviation)
        else:
            deviation += 0.5 if alternative == "less" else -0.5
    return deviation / sd


def z_p(z: float, alternative: str) -> float:
    if alternative == "less":
        return float(norm.cdf(z))
    if alternative == "greater":
        return float(norm.sf(z))
    return float(min(1.0, 2 * norm.sf(abs(z))))


def rank_biserial_ci(r: float, n1: int, n2: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the rank-biserial correlation by the Fisher z approximation."""
    half_width = norm.ppf(0.5 + confidence / 2) * math.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
    with np.errstate(divide="ignore"):  # r = ±1 maps to ±inf and back to ±1: a degenerate interval
        centre = np.arctanh(r)
    return float(np.tanh(centre - half_width)), float(np.tanh(centre + half_width))


def mann_whitney(
    x: np.ndarray,
    y: np.ndarray,
    *,
    alternative: str = "two-sided",
    continuity: bool = False,
    method: str = "normal",
) -> MannWhitney:
    """Mann-Whitney U of x against y. Z is the normal approximation with tie correction; p comes from it
    ("normal"), from the exact permutation distribution of U ("exact"), or from the one p_method picks.

    Both groups must be non-empty. When every value is tied the variance is zero: Z and p are None,
    with a message saying why (the exact p would be 1 whatever the data: the test has nothing to compare).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0:
        raise ValueError("Mann-Whitney U needs at least one value in each group")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")
    n1, n2 = len(x), len(y)
    method = p_method(method, n1, n2)
    u = u_statistic(x, y)
    r = 2 * u / (n1 * n2) - 1
    ci = rank_biserial_ci(r, n1, n2)
    sd = u_sd(x, y)
    common = {"u": u, "rank_biserial": r, "rank_biserial_ci": ci, "method": method}
    if sd == 0:
        message = "Every accuracy is the same in both groups (zero variance): Z and p are undefined."
        return MannWhitney(**common, z=None, p=None, message=message)
    z, p = _z_and_p(x, y, u, sd, alternative=alternative, continuity=continuity)
    if method == "exact":
        p = exact_u_p(x, y, alternative=alternative)
    separated = "The groups do not overlap (r = ±1): the Fisher z interval collapses to a point."
    message = separated if abs(r) == 1 else None
    return MannWhitney(**common, z=z, p=p, message=message)


def _z_and_p(
    x: np.ndarray, y: np.ndarray, u: float, sd: float, *, alternative: str, continuity: bool
) -> tuple[float, float]:
    """Our Z, and scipy's p; they come from separate code, so a disagreement means a Z that lies."""
    z = u_z(u, len(x), len(y), sd, alternative=alternative, continuity=continuity)
    result = mannwhitneyu(x, y, alternative=alternative, method="asymptotic", use_continuity=continuity)
    p = float(result.pvalue)
    if not math.isclose(z_p(z, alternative), p, rel_tol=1e-7, abs_tol=1e-300):
        raise ArithmeticError(f"Z = {z} gives p = {z_p(z, alternative)}, but scipy says p = {p}")
    return z, p


@dataclass(frozen=True)
class KruskalWallis:
    """A Kruskal-Wallis H test across groups: chi-squared approximation, H corrected for ties."""

    h: float | None
    p: float | None
    df: int  # groups - 1
    message: str | None = None


def kruskal_wallis(groups: Sequence[np.ndarray]) -> KruskalWallis:
    """Kruskal-Wallis H across two or more groups, each non-empty (as scipy.stats.kruskal computes it).

    When every value is tied H is undefined: H and p are None, with a message saying why.
    """
    arrays = [np.asarray(group, dtype=float) for group in groups]
    if len(arrays) < 2 or any(len(values) == 0 for values in arrays):
        raise ValueError("Kruskal-Wallis needs at least two groups with at least one value each")
    df = len(arrays) - 1
    if np.ptp(np.concatenate(arrays)) == 0:  # scipy would answer NaN, with a warning
        message = "Every accuracy is the same in all groups (zero variance): H and p are undefined."
        return KruskalWallis(h=None, p=None, df=df, message=message)
    result = kruskal(*arrays)
    return KruskalWallis(h=float(result.statistic), p=float(result.pvalue), df=df)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment, in the order given: the i-th smallest of m p-values times (m - i + 1),
    made non-decreasing in that order and capped at 1.

    statsmodels.stats.multitest.multipletests(p_values, method="holm")[1] gives the same.
    """
    values = np.asarray(p_values, dtype=float)
    if not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {values.tolist()}")
    order = np.argsort(values, kind="stable")
    scaled = values[order] * (len(values) - np.arange(len(values)))
    adjusted = np.empty(len(values))
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted.tolist()


@dataclass(frozen=True)
class PairTest:
    """A two-sided Mann-Whitney U test of group a against group b, one of every pair of groups."""

    a: str
    b: str
    n_a: int
    n_b: int
    # None where a group is empty; z and p also where every value is tied (the message says which).
    u: float | None = None  # of a, as MannWhitney.u
    z: float | None = None
    p: float | None = None  # two-sided
    p_holm: float | None = None  # Holm-adjusted over the pairs that have a p
    rank_biserial: float | None = None  # positive when a tends to be higher
    message: str | None = None
    method: str | None = None  # how p was found, "exact" or "normal"; None where there is no test


def pairwise_mann_whitney(
    groups: Mapping[str, np.ndarray], *, continuity: bool = False, method: str = "normal"
) -> list[PairTest]:
    """Every pair of groups in the mapping's order ((1, 2), (1, 3), (2, 3), ...), with Holm's adjustment.

    A pair with an empty group, or with every value tied, has no p: it gets a message, and Holm adjusts
    over the pairs that have one. `method` is mann_whitney's, decided pair by pair.
    """
    tests = [
        _pair_test(a, b, groups[a], groups[b], continuity=continuity, method=method)
        for a, b in combinations(groups, 2)
    ]
    adjusted = iter(holm([test.p for test in tests if test.p is not None]))
    return [test if test.p is None else replace(test, p_holm=next(adjusted)) for test in tests]


def _pair_test(a: str, b: str, x: np.ndarray, y: np.ndarray, *, continuity: bool, method: str) -> PairTest:
    pair = PairTest(a=a, b=b, n_a=len(x), n_b=len(y))
    empty = [key for key, values in ((a, x), (b, y)) if len(values) == 0]
    if empty:
        return replace(pair, message=f"No participants counted in {empty[0]!r}: no test yet.")
    result = mann_whitney(x, y, alternative="two-sided", continuity=continuity, method=method)
    # Only the reason for a missing p: the pairs report no interval, so a note about one would mislead.
    message = result.message if result.p is None else None
    figures = {"u": result.u, "z": result.z, "p": result.p, "rank_biserial": result.rank_biserial}
    return replace(pair, **figures, message=message, method=result.method)


def subset_cant_tell_share(scores: pd.DataFrame) -> float | None:
    """Share of "I just can't tell" among all answers in these score rows."""
    answers = int(scores["answers"].sum())
    return float(scores["cant_tell"].sum() / answers) if answers else None


def question_accuracy(
    responses: pd.DataFrame, *, question_order: list[str], condition_order: list[str]
) -> pd.DataFrame:
    """Per question and condition: n answers, accuracy, share of "I just can't tell", median time."""
    frame = responses.assign(cant_tell=_is_cant_tell(responses))
    table = (
        frame.groupby(["question", "condition"], sort=False)
        .agg(
            model_correct=("model_correct", "first"),
            prediction=("prediction", "first"),
            n=("is_correct", "size"),
            accuracy=("is_correct", "mean"),
            cant_tell_share=("cant_tell", "mean"),
            median_response_ms=("response_ms", "median"),
        )
        .reset_index()
    )
    ranks = {
        "question": {key: index for index, key in enumerate(question_order)},
        "condition": {key: index for index, key in enumerate(condition_order)},
    }
    ordered = table.sort_values(["question", "condition"], key=lambda keys: keys.map(ranks[keys.name]))
    return ordered.reset_index(drop=True)


def dropout_counts(participants: pd.DataFrame, conditions: list[str]) -> dict[str, dict[str, int]]:
    """Started, completed, abandoned and still in progress, per condition, from statuses in a frame.

    For a responses file only; the database's counts come from survey.selectors.studies.
    """
    counts: dict[str, dict[str, int]] = {}
    for condition in conditions:
        status = participants.loc[participants["condition"] == condition, "status"]
        counts[condition] = {
            "started": len(status),
            "completed": int(status.eq("completed").sum()),
            "abandoned": int(status.eq("abandoned").sum()),
            "in_progress": int(status.eq("in_progress").sum()),
        }
    return counts
