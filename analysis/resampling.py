"""Small-sample statistics by resampling: the exact permutation p of Mann-Whitney U, and a bootstrap
interval for a difference in means. Pure functions on arrays (no database here).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

# The exact distribution is a table of (group size + 1) x (largest doubled rank sum + 1) cells: past this
# many (about 160 MB of floats) the groups are large enough for the normal approximation anyway.
EXACT_MAX_CELLS = 20_000_000
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_METHOD = "percentile bootstrap: participants resampled with replacement within each condition"


class ExactTooCostly(ValueError):
    """The groups are too large for the exact distribution; the message says to use the normal one."""


def exact_u_p(x: np.ndarray, y: np.ndarray, *, alternative: str) -> float:
    """Exact permutation p of U(x): over every way of splitting the pooled values into groups of len(x) and
    len(y), the share with a U as extreme as the observed one, ties kept as midranks.

    "less" is P(U <= u), "greater" P(U >= u), and "two-sided" twice the smaller of the two, capped at 1
    (scipy.stats.permutation_test's convention).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0:
        raise ValueError("The exact p needs at least one value in each group")
    pooled = np.concatenate([x, y])
    doubled = np.rint(2 * rankdata(pooled)).astype(np.int64)  # midranks are halves: doubled, integers
    # Draw the smaller group: its table is the smaller one, and U of the other follows from it.
    swap = len(y) < len(x)
    drawn, observed = (
        (len(y), int(doubled[len(x) :].sum())) if swap else (len(x), int(doubled[: len(x)].sum()))
    )
    distribution = rank_sum_distribution(doubled, drawn)
    at_most, at_least = distribution[: observed + 1].sum(), distribution[observed:].sum()
    if swap:  # a small rank sum of y is a large U of x
        at_most, at_least = at_least, at_most
    if alternative == "less":
        return float(min(at_most, 1.0))
    if alternative == "greater":
        return float(min(at_least, 1.0))
    return float(min(1.0, 2 * min(at_most, at_least)))


def rank_sum_distribution(doubled_ranks: np.ndarray, drawn: int) -> np.ndarray:
    """P(sum of the doubled ranks of `drawn` values picked at random without replacement = s), for each s.

    A table over (values picked so far, sum so far), filled one group of tied values at a time: picking j
    of a group of t ties, each of doubled rank d, adds j·d in comb(t, j) ways.
    """
    values, ties = np.unique(doubled_ranks, return_counts=True)
    largest = int(np.sort(doubled_ranks)[len(doubled_ranks) - drawn :].sum())
    if (drawn + 1) * (largest + 1) > EXACT_MAX_CELLS:
        raise ExactTooCostly(
            f"The exact p is too costly for groups of {drawn} and {len(doubled_ranks) - drawn}: "
            "use the normal approximation."
        )
    table = np.zeros((drawn + 1, largest + 1))  # (picked, doubled rank sum)
    table[0, 0] = 1.0
    for value, count in zip(values.tolist(), ties.tolist(), strict=True):
        grown = np.zeros_like(table)
        for j in range(min(count, drawn) + 1):
            shift = j * value
            if shift > largest:
                break
            grown[j:, shift:] += math.comb(count, j) * table[: drawn + 1 - j, : largest + 1 - shift]
        table = grown / grown.sum()  # rescaled, so huge counts never overflow; only ratios matter
    return table[drawn] / table[drawn].sum()


def bootstrap_mean_difference_ci(
    x: np.ndarray,
    y: np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(x) - mean(y): each group resampled with replacement."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0:
        raise ValueError("The bootstrap needs at least one value in each group")
    generator = np.random.default_rng(seed)
    means_x = generator.choice(x, size=(resamples, len(x))).mean(axis=1)  # (resamples,)
    means_y = generator.choice(y, size=(resamples, len(y))).mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means_x - means_y, [tail, 1 - tail])
    return float(low), float(high)
