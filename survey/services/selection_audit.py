"""Checks on a bundle's audit fields: each question's prediction set and posteriors, and the study's
"selection" summary. They are optional (older bundles lack them); when present they must agree with
the question and with the paper's rule (survey.rules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from survey import rules

POSTERIOR_DECIMALS = 4
TOLERANCE = 0.5 * 10**-POSTERIOR_DECIMALS  # a posterior rounded to 4 decimals may sit on the threshold
SELECTION_TEXT_FIELDS = ("rule", "rule_text", "split", "difficult")
SELECTION_COUNT_FIELDS = (
    "seed",
    "images",
    "eligible_correct",
    "eligible_incorrect",
    "not_eligible_partial_overlap",
    "not_eligible_empty_prediction_set",
    "not_eligible_no_labels",
    "not_eligible_difficult_in_prediction",
    "left_out_empty_mask",
    "picked_practice",
    "picked_attention",
    "picked_correct",
    "picked_incorrect",
)


# How each count of a selection summary reads to people: the dry run and the admin both show these.
SELECTION_COUNT_LABELS = (
    ("images", "images in the split"),
    ("eligible_correct", "eligible, the model is right (P = L)"),
    ("eligible_incorrect", "eligible, the model is wrong (P and L disjoint)"),
    ("not_eligible_partial_overlap", "not eligible: P and L overlap in part"),
    ("not_eligible_empty_prediction_set", "not eligible: empty prediction set"),
    ("not_eligible_no_labels", "not eligible: no true label"),
    ("not_eligible_difficult_in_prediction", "not eligible: P names a difficult-only class"),
    ("left_out_empty_mask", "left out: empty Grad-CAM mask"),
    ("picked_practice", "picked for practice"),
    ("picked_attention", "picked for attention checks"),
    ("picked_correct", "picked, the model is right"),
    ("picked_incorrect", "picked, the model is wrong"),
)


def question_audit_problems(
    *,
    where: str,
    prediction_set: Sequence[str] | None,
    posteriors: Mapping[str, float] | None,
    prediction: str,
    labels: Sequence[str],
    model_correct: bool | None,
    classes: Sequence[str],
) -> list[str]:
    """What is inconsistent between a question's audit fields, its answer key and the rule."""
    problems = []
    if posteriors is not None:
        problems += _posterior_problems(
            where=where, posteriors=posteriors, prediction=prediction, classes=classes
        )
    if prediction_set is None:
        return problems
    unknown = [name for name in prediction_set if name not in classes]
    if unknown:
        problems.append(f"{where}: prediction_set names {', '.join(unknown)}, not among the study's classes")
    if not prediction_set or prediction_set[0] != prediction:
        problems.append(
            f"{where}: the prediction {prediction!r} must be the top of the prediction_set "
            f"{list(prediction_set)}"
        )
    if posteriors is not None and not problems:
        problems += _set_problems(where=where, prediction_set=prediction_set, posteriors=posteriors)
    kind = rules.category(prediction_set, labels)
    if model_correct is not None and kind not in rules.ELIGIBLE:
        problems.append(
            f"{where}: prediction_set {list(prediction_set)} and labels {list(labels)} are a "
            f"{kind.replace('_', ' ')}: not eligible under the rule ({rules.RULE_TEXT})"
        )
    elif model_correct is not None and model_correct != (kind == rules.CORRECT):
        problems.append(
            f"{where}: model_correct is {str(model_correct).lower()} but prediction_set "
            f"{list(prediction_set)} and labels {list(labels)} make the model {kind}"
        )
    return problems


def _posterior_problems(
    *, where: str, posteriors: Mapping[str, float], prediction: str, classes: Sequence[str]
) -> list[str]:
    unknown = [name for name in posteriors if name not in classes]
    if unknown:
        return [f"{where}: posteriors name {', '.join(unknown)}, not among the study's classes"]
    bad = [name for name, value in posteriors.items() if not _probability(value)]
    if bad:
        return [f"{where}: posteriors of {', '.join(bad)} must be numbers between 0 and 1"]
    if prediction in posteriors and posteriors[prediction] < max(posteriors.values()) - TOLERANCE:
        return [f"{where}: the prediction {prediction!r} does not have the highest posterior"]
    return []


def _set_problems(*, where: str, prediction_set: Sequence[str], posteriors: Mapping[str, float]) -> list[str]:
    problems = []
    for name, value in posteriors.items():
        listed = name in prediction_set
        if listed and value < rules.THRESHOLD - TOLERANCE:
            problems.append(f"{where}: {name} is in the prediction_set but its posterior is {value}")
        if not listed and value > rules.THRESHOLD + TOLERANCE:
            problems.append(f"{where}: {name} has posterior {value} > 0.5 but is not in the prediction_set")
    missing = [name for name in prediction_set if name not in posteriors]
    if missing:
        problems.append(f"{where}: prediction_set names {', '.join(missing)}, which have no posterior")
    values = [posteriors.get(name, 0.0) for name in prediction_set]
    if values != sorted(values, reverse=True):
        problems.append(f"{where}: prediction_set must list the classes from the highest posterior down")
    return problems


def selection_problems(*, where: str, selection: object) -> list[str]:
    """What is wrong with a study's "selection" summary (rule, split, seed, policy and counts)."""
    if not isinstance(selection, dict):
        return [f"{where}: 'selection' must be a JSON object"]
    known = (*SELECTION_TEXT_FIELDS, *SELECTION_COUNT_FIELDS)
    problems = [
        f"{where}: selection has an unknown field {name!r}" for name in selection if name not in known
    ]
    problems += [
        f"{where}: selection's {name!r} must be a string"
        for name in SELECTION_TEXT_FIELDS
        if name in selection and not isinstance(selection[name], str)
    ]
    problems += [
        f"{where}: selection's {name!r} must be a whole number"
        for name in SELECTION_COUNT_FIELDS
        if name in selection and (isinstance(selection[name], bool) or not isinstance(selection[name], int))
    ]
    if selection.get("difficult", rules.DIFFICULT_LABELS) not in rules.DIFFICULT_POLICIES:
        problems.append(
            f"{where}: selection's difficult policy must be one of {', '.join(rules.DIFFICULT_POLICIES)}"
        )
    return problems


def _probability(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
