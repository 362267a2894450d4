"""Planning the sample size from a pilot: the power of the study's own test at increasing n per condition,
by resampling the pilot's per-participant accuracies. Pure: arrays and DataFrames in, plain Python out.

At each n, `simulations` studies are drawn: n accuracies from each condition's pilot, with replacement.
Each gets the study's Mann-Whitney test (its subset's alternative, exact p below 20 per group unless told
otherwise, no continuity correction), and the power at n is the share with p < alpha. A study whose
accuracies are all tied has no p and counts as not significant.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from analysis import stats
from analysis.resampling import exact_u_p
from analysis.results import DEFAULT_ALTERNATIVES, AnalysisError, AnalysisOptions, compared_conditions


@dataclass(frozen=True)
class PlanSettings:
    # The subset whose accuracies are compared: "incorrect" (the model was wrong) or "correct".
    subset: str = "incorrect"
    # H1 of the first condition against the second; None: the paper's for the subset.
    alternative: str | None = None
    alpha: float = 0.05
    # The power to reach.
    power: float = 0.8
    simulations: int = 1000
    seed: int = 0
    # n per condition runs step, 2·step, ... up to max_n; between the last n short of the power and the
    # first that reaches it, every n is tried, so the answer is exact to one participant.
    step: int = 5
    max_n: int = 100
    # How the simulated tests find p, as AnalysisOptions.p_method.
    p_method: str = "auto"

    def __post_init__(self) -> None:
        problems = [
            (self.subset in stats.SUBSETS, f"subset must be one of {', '.join(stats.SUBSETS)}"),
            (self.alternative in (None, *stats.ALTERNATIVES), f"unknown alternative {self.alternative!r}"),
            (0 < self.alpha < 1, f"alpha must lie between 0 and 1, got {self.alpha}"),
            (0 < self.power < 1, f"the target power must lie between 0 and 1, got {self.power}"),
            (self.simulations >= 10, f"simulations must be at least 10, got {self.simulations}"),
            (self.seed >= 0, f"the seed must be at least 0, got {self.seed}"),
            (self.step >= 1, f"step must be at least 1, got {self.step}"),
            (self.max_n >= 2, f"max_n must be at least 2, got {self.max_n}"),
            (self.p_method in stats.P_METHODS, f"p_method must be one of {', '.join(stats.P_METHODS)}"),
        ]
        failed = [message for ok, message in problems if not ok]
        if failed:
            raise AnalysisError("; ".join(failed), extra={"problems": failed})

    @property
    def test_alternative(self) -> str:
        return self.alternative or DEFAULT_ALTERNATIVES[self.subset]


@dataclass(frozen=True)
class Pilot:
    conditions: tuple[str, str]  # the first is the one the alternative speaks of
    accuracies: tuple[np.ndarray, np.ndarray]


def pilot_from_scores(scores: pd.DataFrame, *, subset: str, conditions: tuple[str, str]) -> Pilot:
    """Each condition's per-participant accuracies in the subset; AnalysisError when a condition has fewer
    than two participants to resample."""
    rows = scores[scores["subset"] == subset]
    accuracies = tuple(
        rows.loc[rows["condition"] == key, "accuracy"].to_numpy(dtype=float) for key in conditions
    )
    short = [key for key, values in zip(conditions, accuracies, strict=True) if len(values) < 2]
    if short:
        label = stats.SUBSET_LABELS[subset]
        raise AnalysisError(f"The pilot needs two participants at least in {short[0]!r} for {label}.")
    return Pilot(conditions=conditions, accuracies=accuracies)


def simulated_power(
    x: np.ndarray, y: np.ndarray, *, n: int, settings: PlanSettings, simulations: int | None = None
) -> float:
    """The share of studies of n per condition, drawn from x and y, whose test gives p < alpha."""
    count = simulations or settings.simulations
    generator = np.random.default_rng([settings.seed, n])  # one stream per n: any grid gives the same curve
    drawn_x = generator.choice(x, size=(count, n))  # (simulations, n)
    drawn_y = generator.choice(y, size=(count, n))
    p = _p_values(drawn_x, drawn_y, settings=settings)
    return float(np.mean(p < settings.alpha))


def _p_values(drawn_x: np.ndarray, drawn_y: np.ndarray, *, settings: PlanSettings) -> np.ndarray:
    n = drawn_x.shape[1]
    alternative = settings.test_alternative
    tied = np.ptp(np.concatenate([drawn_x, drawn_y], axis=1), axis=1) == 0  # (simulations,)
    if stats.p_method(settings.p_method, n, n) == "exact":
        p = np.array(
            [exact_u_p(x, y, alternative=alternative) for x, y in zip(drawn_x, drawn_y, strict=True)]
        )
    else:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # all-tied rows: NaN, dealt with below
            result = mannwhitneyu(
                drawn_x, drawn_y, alternative=alternative, method="asymptotic", use_continuity=False, axis=1
            )
        p = np.asarray(result.pvalue, dtype=float)
    return np.where(tied, 1.0, p)  # no p where every accuracy is the same: not significant


@dataclass(frozen=True)
class SamplePlan:
    plan: dict[str, Any]  # JSON-ready: see sample_size_plan
    names: dict[str, str]  # condition key -> display name, of the pilot's conditions


def plan_from_scores(
    scores: pd.DataFrame, *, names: dict[str, str], settings: PlanSettings, conditions: tuple[str, str] | None
) -> SamplePlan:
    """The plan for two of the pilot's conditions (by default its first two), from its participant scores
    (as stats.participant_scores gives them)."""
    pair = compared_conditions(names, AnalysisOptions(conditions=conditions))
    if pair is None:
        raise AnalysisError(f"Planning compares two conditions; the pilot has {len(names)}.")
    pilot = pilot_from_scores(scores, subset=settings.subset, conditions=pair)
    return SamplePlan(plan=sample_size_plan(pilot, settings), names={key: names[key] for key in pair})


def sample_size_plan(pilot: Pilot, settings: PlanSettings) -> dict[str, Any]:
    """The smallest n per condition whose power reaches the target (None when max_n does not), and the
    power at every n tried ({str(n): power}, the keys ready for JSON): the whole grid up to max_n, and
    every n between the last grid point short of the target and the first that reaches it."""
    x, y = pilot.accuracies
    grid = sorted(
        {n for n in [*range(settings.step, settings.max_n + 1, settings.step), settings.max_n] if n >= 2}
    )
    power = {n: simulated_power(x, y, n=n, settings=settings) for n in grid}
    reached = [n for n in grid if power[n] >= settings.power]
    found = None
    if reached:
        before = max([n for n in grid if n < reached[0]], default=1)
        found = _first_reaching(x, y, range(before + 1, reached[0]), power, settings) or reached[0]
    return {
        "n_per_condition": found,
        "power": {str(n): power[n] for n in sorted(power)},
        "simulations": settings.simulations,
        "seed": settings.seed,
        **_described(pilot, settings),
    }


def _first_reaching(
    x: np.ndarray, y: np.ndarray, candidates: range, power: dict[int, float], settings: PlanSettings
) -> int | None:
    for n in candidates:
        power[n] = simulated_power(x, y, n=n, settings=settings)
        if power[n] >= settings.power:
            return n
    return None


def _described(pilot: Pilot, settings: PlanSettings) -> dict[str, Any]:
    first, second = pilot.conditions
    return {
        "subset": settings.subset,
        "conditions": [first, second],
        "alternative": settings.test_alternative,
        "hypothesis": f"Acc({first}) {stats.ALTERNATIVE_SYMBOLS[settings.test_alternative]} Acc({second})",
        "alpha": settings.alpha,
        "target_power": settings.power,
        "p_method": settings.p_method,
        "pilot": {key: len(values) for key, values in zip(pilot.conditions, pilot.accuracies, strict=True)},
        "monte_carlo_se": math.sqrt(0.25 / settings.simulations),  # the largest, at a power of 50%
    }
