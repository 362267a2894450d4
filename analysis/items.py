"""Item analysis: per question and condition, accuracy with a Wilson interval and the share of "I just
can't tell"; and the questions ranked by the difference in accuracy between the two compared conditions.

Pure: it takes counts (or the answers, to count) as DataFrames, and returns plain Python for the JSON.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from scipy.stats import norm

from survey.constants import CANT_TELL

CI_METHOD = "Wilson score interval, 95%"
COUNT_COLUMNS = ["question", "condition", "model_correct", "prediction", "n", "correct", "cant_tell"]


def wilson_interval(correct: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion correct/n: unlike p ± z·SE it stays inside [0, 1] and
    does not collapse at 0 or n, as it must for a question nobody (or everybody) got right."""
    if n <= 0 or not 0 <= correct <= n:
        raise ValueError(f"A proportion needs 0 <= correct <= n and n > 0, got {correct} of {n}")
    z = float(norm.ppf(0.5 + confidence / 2))
    share = correct / n
    denominator = 1 + z**2 / n
    centre = (share + z**2 / (2 * n)) / denominator
    half = z * math.sqrt(share * (1 - share) / n + z**2 / (4 * n**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def item_counts(responses: pd.DataFrame) -> pd.DataFrame:
    """Per question and condition: model_correct, prediction, n answers, correct ones, "can't tell" ones."""
    frame = responses.assign(cant_tell=responses["answer"].eq(CANT_TELL))
    counts = (
        frame.groupby(["question", "condition"], sort=False)
        .agg(
            model_correct=("model_correct", "first"),
            prediction=("prediction", "first"),
            n=("is_correct", "size"),
            correct=("is_correct", "sum"),
            cant_tell=("cant_tell", "sum"),
        )
        .reset_index()
    )
    return counts[COUNT_COLUMNS]


def item_analysis(
    counts: pd.DataFrame, *, question_order: list[str], conditions: list[str], pair: tuple[str, str] | None
) -> dict[str, Any]:
    """The JSON of the item analysis. `counts` has COUNT_COLUMNS (cant_tell may be missing: None); each
    question lists every condition in `conditions` it was answered in, and the questions come ranked by
    accuracy in pair[0] minus accuracy in pair[1], highest first (questions without a difference last, in
    question order). Impossible counts (more correct answers than answers) get a message, no figures."""
    by_question = {key: rows for key, rows in counts.groupby("question", sort=False)}
    rows = [
        _question(key, by_question[key], conditions, pair) for key in question_order if key in by_question
    ]
    ranked = sorted(rows, key=lambda row: -row["difference"] if row["difference"] is not None else math.inf)
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    return {"conditions": list(pair) if pair else None, "ci_method": CI_METHOD, "questions": ranked}


def _question(
    key: str, rows: pd.DataFrame, conditions: list[str], pair: tuple[str, str] | None
) -> dict[str, Any]:
    first = rows.iloc[0]
    by_condition = {row["condition"]: _cell(row) for row in rows.to_dict("records")}
    cells = {condition: by_condition[condition] for condition in conditions if condition in by_condition}
    return {
        "question": key,
        "model_correct": bool(first["model_correct"]),
        "prediction": str(first["prediction"]),
        "rank": None,
        "difference": _difference(cells, pair),
        "conditions": cells,
    }


def _cell(row: dict[str, Any]) -> dict[str, Any]:
    n, correct = int(row["n"]), int(row["correct"])
    cant_tell = row.get("cant_tell")
    known = cant_tell is not None and not pd.isna(cant_tell)
    cell: dict[str, Any] = {
        "n": n,
        "correct": correct,
        "accuracy": None,
        "ci": None,
        "cant_tell_share": int(cant_tell) / n if known and n else None,
        "message": None,
    }
    if n == 0 or correct > n:
        return {**cell, "message": f"{correct} correct out of {n} answers: impossible counts, left out."}
    return {**cell, "accuracy": correct / n, "ci": list(wilson_interval(correct, n))}


def _difference(cells: dict[str, dict[str, Any]], pair: tuple[str, str] | None) -> float | None:
    if pair is None or not all(key in cells and cells[key]["accuracy"] is not None for key in pair):
        return None
    return cells[pair[0]]["accuracy"] - cells[pair[1]]["accuracy"]
