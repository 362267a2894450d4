"""A logistic mixed model of the answers: correct ~ condition * subset, with random intercepts for the
participant and for the question. Pure: it takes the answers as a DataFrame (no database here).

The Mann-Whitney tests treat the participants as the sample and the questions as fixed: they speak to
these questions only. Here the question is a random effect too, so the condition effect is estimated
against the spread of question difficulty, and speaks to other images drawn the same way.

How it is fitted (statsmodels' BinomialBayesMixedGLM, whose priors it keeps: N(0, 2²) on each fixed
effect, N(0, 1) on the log of each random-effect SD):
1. Variational Bayes (fit_vb) estimates the SDs of the participant and question effects.
2. Given those SDs, the fixed and random effects are refitted to their joint posterior mode (Newton),
   and their covariance is the inverse Hessian there (a Laplace approximation).
Step 2 is there because fit_vb's posterior is mean-field: it takes each fixed effect as independent
of the random effects, while a condition's effect and the mean of its participants' effects trade off
against each other, so its SDs are too small. On 100 studies simulated as in
tests/analysis/test_mixed_model.py (24 participants per condition, 8 questions per subset) the 95%
intervals of step 2 covered the true log odds ratios in 94 and 96 of them; on a similar design fit_vb's
own intervals covered them in 88 and 82.

The fixed effects are coded so each key contrast is one coefficient: per subset, the log-odds of a
correct answer in the reference condition, and the log odds ratio of each other condition against it.
That is the same model as condition * subset in treatment coding, reparametrised.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sparse
from scipy.special import expit
from scipy.stats import norm
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

from analysis.stats import SUBSETS, subset_of

FORMULA = "correct ~ condition * subset + (1 | participant) + (1 | question)"
METHOD = (
    "statsmodels BinomialBayesMixedGLM: random-effect SDs by variational Bayes, then the effects at their "
    "posterior mode given those SDs, with a Laplace (inverse Hessian) covariance"
)
FIXED_PRIOR_SD = 2.0  # statsmodels' default fe_p
RANDOM_EFFECTS = ("participant", "question")
Z_95 = float(norm.ppf(0.975))
NEWTON_STEPS = 50


@dataclass(frozen=True)
class MixedModelFit:
    terms: list[tuple[str, str | None]]  # (subset, condition): None for the reference's log-odds
    estimates: np.ndarray  # (terms,)
    covariance: np.ndarray  # (terms, terms)
    random_sd: dict[str, float]  # "participant", "question"
    warnings: list[str]


def mixed_model_fit(answers: pd.DataFrame, *, reference: str, seed: int = 0) -> MixedModelFit:
    """Fit the model to answers with columns participant, question, condition, subset, correct."""
    terms = _terms(answers, reference)
    fixed = _fixed_design(answers, terms)  # (answers, terms)
    random, groups, names = _random_design(answers)  # (answers, levels), level -> group
    outcome = answers["correct"].to_numpy(dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BinomialBayesMixedGLM(
            outcome, fixed, sparse.csr_matrix(random), groups, vcp_names=names, fe_p=FIXED_PRIOR_SD
        )
        variational = model.fit_vb(fit_method="L-BFGS-B", rng=np.random.default_rng(seed))
    random_sd = np.exp(variational.vcp_mean)  # statsmodels keeps each SD on the log scale
    start = np.concatenate([variational.fe_mean, variational.vc_mean])
    prior_precision = np.concatenate([np.full(len(terms), FIXED_PRIOR_SD**-2), random_sd[groups] ** -2.0])
    design = sparse.csr_matrix(np.hstack([fixed, random]))  # (answers, effects): a few ones per row
    effects, covariance, converged = _laplace(design, outcome, prior_precision, start)
    notes = [str(warning.message) for warning in caught]
    if not converged:
        notes.append(f"The posterior mode was not reached in {NEWTON_STEPS} Newton steps.")
    return MixedModelFit(
        terms=terms,
        estimates=effects[: len(terms)],
        covariance=covariance[: len(terms), : len(terms)],
        random_sd=dict(zip(names, random_sd.tolist(), strict=True)),
        warnings=notes,
    )


def _terms(answers: pd.DataFrame, reference: str) -> list[tuple[str, str | None]]:
    terms: list[tuple[str, str | None]] = []
    for subset in SUBSETS:
        present = answers.loc[answers["subset"] == subset, "condition"].unique().tolist()
        if reference in present:
            terms.append((subset, None))
            terms += [(subset, condition) for condition in present if condition != reference]
    return terms


def _fixed_design(answers: pd.DataFrame, terms: list[tuple[str, str | None]]) -> np.ndarray:
    columns = []
    for subset, condition in terms:
        inside = answers["subset"].eq(subset)
        if condition is not None:
            inside &= answers["condition"].eq(condition)
        columns.append(inside.to_numpy(dtype=float))
    return np.column_stack(columns)


def _random_design(answers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One indicator column per participant, then per question; and each column's group (0, 1)."""
    blocks, groups = [], []
    for index, effect in enumerate(RANDOM_EFFECTS):
        codes, levels = pd.factorize(answers[effect])
        block = np.zeros((len(answers), len(levels)))  # (answers, levels)
        block[np.arange(len(answers)), codes] = 1.0
        blocks.append(block)
        groups.append(np.full(len(levels), index))
    return np.hstack(blocks), np.concatenate(groups), list(RANDOM_EFFECTS)


def _laplace(
    design: sparse.csr_matrix, outcome: np.ndarray, prior_precision: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The posterior mode of every effect under Gaussian priors (Newton), and the inverse Hessian there."""
    effects = start.copy()
    for _ in range(NEWTON_STEPS):
        hessian, gradient = _hessian_and_gradient(design, outcome, prior_precision, effects)
        step = np.linalg.solve(hessian, gradient)
        effects += step
        if np.max(np.abs(step)) < 1e-8:
            break
    else:
        hessian, _ = _hessian_and_gradient(design, outcome, prior_precision, effects)
        return effects, np.linalg.inv(hessian), False
    hessian, _ = _hessian_and_gradient(design, outcome, prior_precision, effects)
    return effects, np.linalg.inv(hessian), True


def _hessian_and_gradient(
    design: sparse.csr_matrix, outcome: np.ndarray, prior_precision: np.ndarray, effects: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Of the negative log posterior: X'WX + the prior precision, and X'(y - p) - precision·effects."""
    fitted = expit(design @ effects)
    weighted = sparse.diags(fitted * (1 - fitted)) @ design  # (answers, effects)
    hessian = (design.T @ weighted).toarray() + np.diag(prior_precision)
    gradient = design.T @ (outcome - fitted) - prior_precision * effects
    return hessian, gradient


def model_answers(responses: pd.DataFrame) -> pd.DataFrame:
    """The answers in the model's terms: participant, question, condition, subset, correct."""
    return pd.DataFrame(
        {
            "participant": responses["participant"].to_numpy(),
            "question": responses["question"].to_numpy(),
            "condition": responses["condition"].to_numpy(),
            "subset": subset_of(responses["model_correct"]).to_numpy(),
            "correct": responses["is_correct"].to_numpy(dtype=bool),
        }
    )


def mixed_model_unfitted(pair: tuple[str, str] | None, message: str | None) -> dict[str, Any]:
    """The JSON of a model not fitted, with the reason: the same keys, no figures."""
    return {
        "formula": FORMULA,
        "method": METHOD,
        "group": pair[0] if pair else None,
        "reference": pair[1] if pair else None,
        "n": {"answers": 0, "participants": 0, "questions": 0},
        "fixed_effects": [],
        "contrasts": [],
        "interaction": None,
        "random_effects": {},
        "message": message,
    }


def mixed_model_results(
    responses: pd.DataFrame, *, pair: tuple[str, str] | None, seed: int = 0
) -> dict[str, Any]:
    """The JSON of the model on these answers: fixed effects, the pair's odds ratios per subset, and
    their ratio (model wrong over model right); a message instead where it cannot be fitted.

    `pair` is (group, reference): the odds ratios are the group's odds of a correct answer over the
    reference's. Subsets without answers in both are left out of the model.
    """
    if pair is None:
        return mixed_model_unfitted(pair, "No model: comparing needs two conditions.")
    answers = model_answers(responses)
    answers = answers[answers["subset"].isin(_compared_subsets(answers, pair))]
    reason = _unfit_reason(answers, pair)
    if reason is not None:
        return mixed_model_unfitted(pair, reason)
    fit = mixed_model_fit(answers, reference=pair[1], seed=seed)
    return {
        **mixed_model_unfitted(pair, " ".join(fit.warnings) or None),
        "n": {
            "answers": len(answers),
            "participants": int(answers["participant"].nunique()),
            "questions": int(answers["question"].nunique()),
        },
        "fixed_effects": [_fixed_effect(fit, index) for index in range(len(fit.terms))],
        "contrasts": _contrasts(fit, pair[0]),
        "interaction": _interaction(fit, pair[0]),
        "random_effects": {effect: {"sd": sd} for effect, sd in fit.random_sd.items()},
    }


def _compared_subsets(answers: pd.DataFrame, pair: tuple[str, str]) -> list[str]:
    """The subsets with answers in both conditions of the pair: the model leaves out the others."""
    return [
        subset
        for subset in SUBSETS
        if set(pair) <= set(answers.loc[answers["subset"] == subset, "condition"])
    ]


def _unfit_reason(answers: pd.DataFrame, pair: tuple[str, str]) -> str | None:
    """Why the model cannot be fitted to these answers (of the compared subsets only), or None."""
    if answers.empty:
        return f"No model yet: no subset has answers counted in both {pair[0]!r} and {pair[1]!r}."
    if answers["participant"].nunique() < 2 or answers["question"].nunique() < 2:
        return "No model yet: it needs answers from two participants to two questions at least."
    if answers["correct"].nunique() < 2:
        return "No model: every answer counted is the same (all right or all wrong)."
    return None


def _interval(estimate: float, sd: float) -> list[float]:
    return [estimate - Z_95 * sd, estimate + Z_95 * sd]


def _fixed_effect(fit: MixedModelFit, index: int) -> dict[str, Any]:
    subset, condition = fit.terms[index]
    estimate, sd = float(fit.estimates[index]), math.sqrt(fit.covariance[index, index])
    return {
        "term": subset if condition is None else f"{subset}:{condition}",
        "subset": subset,
        "condition": condition,  # None: the reference's log-odds; else the log odds ratio against it
        "estimate": estimate,
        "sd": sd,
        "ci": _interval(estimate, sd),
    }


def _contrasts(fit: MixedModelFit, group: str) -> list[dict[str, Any]]:
    contrasts = []
    for index, (subset, condition) in enumerate(fit.terms):
        if condition == group:
            estimate, sd = float(fit.estimates[index]), math.sqrt(fit.covariance[index, index])
            contrasts.append({"subset": subset, **_odds_ratio(estimate, sd)})
    return contrasts


def _interaction(fit: MixedModelFit, group: str) -> dict[str, Any] | None:
    """The odds ratio where the model was wrong over the one where it was right: the crossover."""
    where = {subset: index for index, (subset, condition) in enumerate(fit.terms) if condition == group}
    if set(where) != set(SUBSETS):
        return None
    weights = np.zeros(len(fit.terms))
    weights[where["incorrect"]], weights[where["correct"]] = 1.0, -1.0
    estimate = float(weights @ fit.estimates)
    return _odds_ratio(estimate, math.sqrt(weights @ fit.covariance @ weights))


def _odds_ratio(log_ratio: float, sd: float) -> dict[str, Any]:
    low, high = _interval(log_ratio, sd)
    return {
        "log_odds_ratio": log_ratio,
        "sd": sd,
        "ci": [low, high],
        "odds_ratio": math.exp(log_ratio),
        "odds_ratio_ci": [math.exp(low), math.exp(high)],
    }
