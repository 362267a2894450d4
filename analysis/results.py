"""Assemble a study's results from its responses: the JSON the command, the admin page and the API share.

Pure: it takes DataFrames and returns plain Python (no NaN, no numpy scalars), so it serialises as is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import stats
from analysis.exclusions import ExclusionRules, exclusions_apply
from analysis.items import item_analysis, item_counts
from analysis.mixed_model import mixed_model_results, mixed_model_unfitted
from analysis.resampling import BOOTSTRAP_METHOD, ExactTooCostly, bootstrap_mean_difference_ci
from core.errors import ApplicationError

# The paper's hypotheses, for its study (Grad-CAM its first condition, PV its second): when the model is
# wrong, Grad-CAM users guess its prediction less often than PV users; when it is right, more often.
DEFAULT_ALTERNATIVES = {"incorrect": "less", "correct": "greater"}


class AnalysisError(ApplicationError):
    """Options that cannot apply to this data (400), or no study to apply them to (404); the message says
    what to change."""


@dataclass(frozen=True)
class AnalysisOptions:
    # The two conditions to compare, first one named by U; None: the first two in the study's order.
    conditions: tuple[str, str] | None = None
    # H1 for questions where the model was wrong, comparing the first condition with the second.
    alternative_incorrect: str = DEFAULT_ALTERNATIVES["incorrect"]
    # H1 for questions where the model was right.
    alternative_correct: str = DEFAULT_ALTERNATIVES["correct"]
    # Also count unfinished participants with at least this many answers in a subset; None: never.
    min_answers: int | None = None
    # Subtract half a unit from |U - mean| before the normal approximation (the reference uses none).
    continuity: bool = False
    # How the Mann-Whitney p is found: "auto" (exact below stats.EXACT_BELOW per group), "exact", "normal".
    p_method: str = "auto"
    # Resamples of the bootstrap interval of the difference in mean accuracy, and the seed of every draw.
    bootstrap_resamples: int = 2000
    seed: int = 0
    # Exclusion rules (see analysis.exclusions): leave out pilots and previews, failed attention checks,
    # and participants whose median response time is under this many ms (None: nobody).
    exclude_pilots: bool = True
    exclude_attention_failed: bool = True
    min_median_ms: int | None = None
    # Fit the logistic mixed model (analysis.mixed_model): a second or two on a study of the paper's size.
    mixed_model: bool = True

    def __post_init__(self) -> None:
        if self.conditions is not None and (len(self.conditions) != 2 or len(set(self.conditions)) != 2):
            raise AnalysisError(f"Name two different conditions to compare, got {list(self.conditions)}")
        for alternative in (self.alternative_incorrect, self.alternative_correct):
            if alternative not in stats.ALTERNATIVES:
                allowed = ", ".join(stats.ALTERNATIVES)
                raise AnalysisError(f"The alternative must be one of {allowed}, got {alternative!r}")
        if self.min_answers is not None and self.min_answers < 1:
            raise AnalysisError(f"min_answers must be at least 1, got {self.min_answers}")
        if self.p_method not in stats.P_METHODS:
            allowed = ", ".join(stats.P_METHODS)
            raise AnalysisError(f"The p method must be one of {allowed}, got {self.p_method!r}")
        if self.bootstrap_resamples < 100:
            raise AnalysisError(f"bootstrap_resamples must be at least 100, got {self.bootstrap_resamples}")
        if self.seed < 0:
            raise AnalysisError(f"The seed must be at least 0, got {self.seed}")
        if self.min_median_ms is not None and self.min_median_ms < 1:
            raise AnalysisError(f"min_median_ms must be at least 1, got {self.min_median_ms}")

    def alternative(self, subset: str) -> str:
        return self.alternative_incorrect if subset == "incorrect" else self.alternative_correct

    def exclusion_rules(self) -> ExclusionRules:
        return ExclusionRules(
            pilots=self.exclude_pilots,
            attention=self.exclude_attention_failed,
            min_median_ms=self.min_median_ms,
            min_answers=self.min_answers,
        )


@dataclass(frozen=True)
class Analysis:
    results: dict[str, Any]  # JSON-ready
    scores: pd.DataFrame  # one row per counted participant and subset (see stats.participant_scores)
    names: dict[str, str]  # condition key -> display name, in study order


def results_compute(
    *,
    responses: pd.DataFrame,
    participants: pd.DataFrame,
    names: dict[str, str],
    question_order: list[str],
    dropout: Mapping[str, Mapping[str, int]],
    options: AnalysisOptions,
    notes: Sequence[str] = (),
) -> Analysis:
    """Everything the paper reports, for the conditions in `names` (key -> display name).

    `dropout` holds each condition's started/completed/abandoned/in_progress counts, worked out by the
    caller from whatever knows them; `notes` are added to the messages.
    """
    pair = compared_conditions(names, options)
    exclusions = exclusions_apply(responses, participants, options.exclusion_rules(), conditions=list(names))
    kept = responses[responses["participant"].isin(exclusions.analysed)]
    scores = stats.participant_scores(kept, participants, min_answers=options.min_answers)
    counted = stats.counted_responses(kept, scores)
    questions = stats.question_accuracy(counted, question_order=question_order, condition_order=list(names))
    results = {
        "flow": exclusions.flow,
        "exclusions": exclusions.rules,
        "conditions": {key: _condition_summary(scores, key, name) for key, name in names.items()},
        "tests": _tests(scores, pair, options),
        "omnibus": _omnibus(scores, names),
        "pairwise": _pairwise(scores, names, options),
        "mixed_model": _mixed_model(counted, pair, options),
        "dropout": {key: dict(dropout[key]) for key in names},
        "questions": _question_rows(questions),
        "response_times": _response_time_rows(questions),
        "items": item_analysis(
            item_counts(counted), question_order=question_order, conditions=list(names), pair=pair
        ),
        "options": _options_echo(pair, options),
        "messages": [*_messages(scores, options, names), *notes],
    }
    return Analysis(results=results, scores=scores, names=names)


def compared_conditions(names: dict[str, str], options: AnalysisOptions) -> tuple[str, str] | None:
    """The two conditions to test; None when there are fewer than two (no test, only summaries).

    By default the first two of `names`: the study's order, or a responses file's order of first appearance
    (an export writes the conditions in the study's order).
    """
    if options.conditions is not None:
        unknown = [key for key in options.conditions if key not in names]
        if unknown:
            have = ", ".join(names) or "none"
            raise AnalysisError(f"Unknown condition {unknown[0]!r}; the conditions here are: {have}")
        return options.conditions
    if len(names) < 2:
        return None
    first, second = list(names)[:2]
    return first, second


def _condition_summary(scores: pd.DataFrame, key: str, name: str) -> dict[str, Any]:
    mine = scores[scores["condition"] == key]
    summary: dict[str, Any] = {"name": name, "n": int(mine["participant"].nunique())}
    for subset in stats.SUBSETS:
        rows = mine[mine["subset"] == subset]
        summary[subset] = {
            **stats.accuracy_summary(rows["accuracy"].to_numpy()),
            "chance": stats.CHANCE,
            "cant_tell_share": stats.subset_cant_tell_share(rows),
        }
    return summary


def _tests(scores: pd.DataFrame, pair: tuple[str, str] | None, options: AnalysisOptions) -> dict:
    if pair is None:
        return {}
    return {subset: _test(scores, subset, pair, options) for subset in stats.SUBSETS}


def _test(scores: pd.DataFrame, subset: str, pair: tuple[str, str], options: AnalysisOptions) -> dict:
    first, second = pair
    alternative = options.alternative(subset)
    rows = scores[scores["subset"] == subset]
    x = rows.loc[rows["condition"] == first, "accuracy"].to_numpy()
    y = rows.loc[rows["condition"] == second, "accuracy"].to_numpy()
    test = {
        "alternative": alternative,
        "group": first,
        "other": second,
        "hypothesis": f"Acc({first}) {stats.ALTERNATIVE_SYMBOLS[alternative]} Acc({second})",
        "n": {first: len(x), second: len(y)},
        "continuity_correction": options.continuity,
        "ci_method": stats.CI_METHOD,
        **dict.fromkeys(["u", "z", "p", "rank_biserial", "rank_biserial_ci", "method"]),
        **dict.fromkeys(["mean_difference", "bootstrap_ci"]),
        "bootstrap": _bootstrap_settings(options),
    }
    empty = [key for key, values in ((first, x), (second, y)) if len(values) == 0]
    if empty:
        label = stats.SUBSET_LABELS[subset]
        return {**test, "message": f"No participants counted in {empty[0]!r} for {label}: no test yet."}
    result = _mann_whitney(x, y, alternative=alternative, options=options)
    return {
        **test,
        "u": result.u,
        "z": result.z,
        "p": result.p,
        "method": result.method,
        "rank_biserial": result.rank_biserial,
        "rank_biserial_ci": list(result.rank_biserial_ci),
        "mean_difference": float(x.mean() - y.mean()),
        "bootstrap_ci": list(
            bootstrap_mean_difference_ci(x, y, resamples=options.bootstrap_resamples, seed=options.seed)
        ),
        "message": result.message,
    }


def _mann_whitney(
    x: np.ndarray, y: np.ndarray, *, alternative: str, options: AnalysisOptions
) -> stats.MannWhitney:
    try:
        return stats.mann_whitney(
            x, y, alternative=alternative, continuity=options.continuity, method=options.p_method
        )
    except ExactTooCostly as exc:
        raise AnalysisError(exc.args[0]) from exc


def _mixed_model(counted: pd.DataFrame, pair: tuple[str, str] | None, options: AnalysisOptions) -> dict:
    if not options.mixed_model:
        return mixed_model_unfitted(pair, "Not fitted: the mixed model was switched off.")
    return mixed_model_results(counted, pair=pair, seed=options.seed)


def _bootstrap_settings(options: AnalysisOptions) -> dict[str, Any]:
    return {
        "method": BOOTSTRAP_METHOD,
        "resamples": options.bootstrap_resamples,
        "confidence": 0.95,
        "seed": options.seed,
    }


def _groups(scores: pd.DataFrame, subset: str, names: dict[str, str]) -> dict[str, np.ndarray]:
    """Each condition's per-participant accuracies in the subset, in the order of `names`."""
    rows = scores[scores["subset"] == subset]
    return {key: rows.loc[rows["condition"] == key, "accuracy"].to_numpy() for key in names}


def _omnibus(scores: pd.DataFrame, names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per subset, a Kruskal-Wallis test across every condition with participants counted in it."""
    if len(names) < 2:
        return {}
    return {subset: _kruskal(_groups(scores, subset, names), subset) for subset in stats.SUBSETS}


def _kruskal(groups: dict[str, np.ndarray], subset: str) -> dict[str, Any]:
    label = stats.SUBSET_LABELS[subset]
    # A condition nobody has been counted in yet is left out rather than holding up the others' test.
    tested = [key for key, values in groups.items() if len(values)]
    omnibus = {
        "conditions": tested,
        "n": {key: len(values) for key, values in groups.items()},
        **dict.fromkeys(["h", "df", "p"]),
    }
    if len(tested) < 2:
        message = f"Fewer than two conditions have participants counted for {label}: no test yet."
        return {**omnibus, "message": message}
    result = stats.kruskal_wallis([groups[key] for key in tested])
    notes = [
        f"No participants counted in {key!r} for {label}: left out." for key in groups if key not in tested
    ]
    notes += [result.message] if result.message else []
    return {**omnibus, "h": result.h, "df": result.df, "p": result.p, "message": " ".join(notes) or None}


def _pairwise(scores: pd.DataFrame, names: dict[str, str], options: AnalysisOptions) -> list[dict[str, Any]]:
    """Every pair of conditions, per subset: two-sided, Holm-adjusted within the subset."""
    return [
        {"a": test.a, "b": test.b, "subset": subset, **asdict(test)}
        for subset in stats.SUBSETS
        for test in _pairwise_tests(_groups(scores, subset, names), options)
    ]


def _pairwise_tests(groups: dict[str, np.ndarray], options: AnalysisOptions) -> list[stats.PairTest]:
    try:
        return stats.pairwise_mann_whitney(groups, continuity=options.continuity, method=options.p_method)
    except ExactTooCostly as exc:
        raise AnalysisError(exc.args[0]) from exc


def _question_rows(questions: pd.DataFrame) -> list[dict[str, Any]]:
    columns = ["question", "model_correct", "prediction", "condition", "n", "accuracy", "cant_tell_share"]
    return [_plain(row) for row in questions[columns].to_dict("records")]


def _response_time_rows(questions: pd.DataFrame) -> list[dict[str, Any]]:
    renamed = questions.rename(columns={"median_response_ms": "median_ms"})
    return [_plain(row) for row in renamed[["question", "condition", "n", "median_ms"]].to_dict("records")]


def _options_echo(pair: tuple[str, str] | None, options: AnalysisOptions) -> dict[str, Any]:
    return {
        "conditions": list(pair or ()),
        "alternative_incorrect": options.alternative_incorrect,
        "alternative_correct": options.alternative_correct,
        "min_answers": options.min_answers,
        "continuity": options.continuity,
    }


def _messages(scores: pd.DataFrame, options: AnalysisOptions, names: dict[str, str]) -> list[str]:
    messages = []
    if len(names) < 2:
        messages.append(f"No test: comparing needs two conditions, and there are {len(names)}.")
    if scores.empty and options.min_answers is None:
        messages.append("No completed participants yet.")
    elif scores.empty:
        least = options.min_answers
        messages.append(f"No completed participants yet, nor any with at least {least} answers in a subset.")
    return messages


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """numpy scalars to Python, NaN to None, so the row goes into JSON unchanged."""
    plain: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        plain[key] = value
    return plain
