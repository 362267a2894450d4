"""Who is left out of the analysis, and why: the exclusion rules and the participant flow (as in CONSORT).

Pure: it takes the responses and the participants as DataFrames. The participants frame has participant,
condition and status, and may have these flag columns (absent, or missing values, where a study records
no such thing): is_pilot, is_preview, attention_failed.

Each participant is counted once, at the first rule that leaves them out, in the order of RULES, so the
flow adds up: started = analysed + the excluded of every rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.stats import subset_of

# Pilots and previews are not participants at all; then who did not finish; then the quality checks.
RULES = ("pilot_preview", "incomplete", "attention", "too_fast")
RULE_LABELS = {
    "pilot_preview": "pilot or preview participant",
    "incomplete": "did not complete",
    "attention": "failed an attention check",
    "too_fast": "too fast (median response time)",
}
FLAG_COLUMNS = ("is_pilot", "is_preview", "attention_failed")


@dataclass(frozen=True)
class ExclusionRules:
    # Leave out pilot and preview participants.
    pilots: bool = True
    # Leave out participants who failed an attention check.
    attention: bool = True
    # Leave out participants whose median response time is under this many ms; None: nobody.
    min_median_ms: int | None = None
    # Unfinished participants stay in with at least this many answers in a subset; None: never.
    min_answers: int | None = None


@dataclass(frozen=True)
class Exclusions:
    # participant -> the first rule that leaves them out, or None: analysed. Every participant, in order.
    reasons: pd.Series
    rules: list[dict[str, Any]]  # JSON: each rule, whether it applies, its setting, how many, a note
    flow: dict[str, dict[str, Any]]  # JSON: per condition, started -> completed -> excluded -> analysed

    @property
    def analysed(self) -> list[str]:
        return self.reasons.index[self.reasons.isna()].tolist()


def exclusions_apply(
    responses: pd.DataFrame, participants: pd.DataFrame, rules: ExclusionRules, *, conditions: list[str]
) -> Exclusions:
    """Apply the rules in order; `conditions` orders the flow (a condition nobody started shows zeros)."""
    people = participants.set_index("participant")
    hits = {
        "pilot_preview": _flagged(people, "is_pilot") | _flagged(people, "is_preview"),
        "incomplete": _incomplete(responses, people, rules.min_answers),
        "attention": _flagged(people, "attention_failed"),
        "too_fast": _too_fast(responses, people, rules.min_median_ms),
    }
    applies = {
        "pilot_preview": rules.pilots,
        "incomplete": True,
        "attention": rules.attention,
        "too_fast": rules.min_median_ms is not None,
    }
    reasons = pd.Series(None, index=people.index, dtype="object")
    for rule in RULES:
        if applies[rule]:
            reasons[reasons.isna() & hits[rule]] = rule
    counts = {rule: int(reasons.eq(rule).sum()) for rule in RULES}
    described = [_rule(rule, applies[rule], counts[rule], people, rules) for rule in RULES]
    return Exclusions(reasons=reasons, rules=described, flow=_flow(people, reasons, conditions))


def _flagged(people: pd.DataFrame, column: str) -> pd.Series:
    if column not in people:
        return pd.Series(False, index=people.index)
    return people[column].eq(True)  # a missing value is no flag


def _recorded(people: pd.DataFrame, *columns: str) -> bool:
    """Whether the study records this flag for anyone: the column is there with a value."""
    return any(column in people and people[column].notna().any() for column in columns)


def _incomplete(responses: pd.DataFrame, people: pd.DataFrame, min_answers: int | None) -> pd.Series:
    unfinished = people["status"].ne("completed")
    if min_answers is None:
        return unfinished
    answers = responses.groupby(["participant", subset_of(responses["model_correct"])]).size()
    enough = answers[answers >= min_answers].index.get_level_values("participant").unique()
    return unfinished & ~people.index.isin(enough)


def _too_fast(responses: pd.DataFrame, people: pd.DataFrame, min_median_ms: int | None) -> pd.Series:
    if min_median_ms is None:
        return pd.Series(False, index=people.index)
    medians = responses.groupby("participant")["response_ms"].median()
    return people.index.to_series().map(medians).lt(min_median_ms)


def _rule(
    rule: str, applies: bool, excluded: int, people: pd.DataFrame, rules: ExclusionRules
) -> dict[str, Any]:
    setting = {
        "pilot_preview": rules.pilots,
        "incomplete": rules.min_answers,
        "attention": rules.attention,
        "too_fast": rules.min_median_ms,
    }[rule]
    return {
        "rule": rule,
        "label": RULE_LABELS[rule],
        "applies": applies,
        "setting": setting,
        "excluded": excluded,
        "note": _note(rule, applies, people, rules),
    }


def _note(rule: str, applies: bool, people: pd.DataFrame, rules: ExclusionRules) -> str:
    if rule == "pilot_preview":
        if not _recorded(people, "is_pilot", "is_preview"):
            return "No pilot or preview participants in this study."
        return (
            "Pilot and preview participants are left out." if applies else "Kept: pilots and previews count."
        )
    if rule == "attention":
        if not _recorded(people, "attention_failed"):
            return "No attention checks in this study."
        return "Left out on a failed attention check." if applies else "Kept: failed attention checks count."
    if rule == "too_fast":
        if not applies:
            return "Off: no minimum median response time is set."
        return f"Left out when the median response time is under {rules.min_median_ms} ms."
    if rules.min_answers is None:
        return "Only participants who completed the study count."
    return f"Unfinished participants count in a subset where they gave at least {rules.min_answers} answers."


def _flow(people: pd.DataFrame, reasons: pd.Series, conditions: list[str]) -> dict[str, dict[str, Any]]:
    flow = {}
    for condition in conditions:
        mine = people["condition"].eq(condition)
        flow[condition] = {
            "started": int(mine.sum()),
            "completed": int((mine & people["status"].eq("completed")).sum()),
            "excluded": {rule: int((mine & reasons.eq(rule)).sum()) for rule in RULES},
            "analysed": int((mine & reasons.isna()).sum()),
        }
    return flow
