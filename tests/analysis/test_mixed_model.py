"""The logistic mixed model on simulated studies whose effects are known, and in the report."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client
from scipy.special import expit

from analysis.mixed_model import FORMULA, mixed_model_results
from analysis.responses import responses_frame
from tests.analysis.builders import make_scenario
from tests.factories import make_study

# Log odds ratios of a correct answer, pv over gradcam: pv users guess the model's prediction more often
# when it is wrong, less often when it is right (the paper's crossover).
TRUE_LOG_ODDS_RATIO = {"incorrect": 1.5, "correct": -1.0}
BASELINE = {"incorrect": -1.0, "correct": 1.5}  # gradcam's log-odds on an average question
PARTICIPANT_SD, QUESTION_SD = 0.5, 1.0
SEEDS = range(6)


def simulated_study(seed: int, *, per_condition: int = 24, per_subset: int = 8) -> pd.DataFrame:
    """Answers of a study drawn from the model itself: each question and each participant shifts the
    log-odds by a normal effect of its own."""
    generator = np.random.default_rng(seed)
    questions = [
        (f"q{index}", "incorrect" if index < per_subset else "correct") for index in range(2 * per_subset)
    ]
    difficulty = generator.normal(0, QUESTION_SD, size=len(questions))
    rows = []
    for condition in ("gradcam", "pv"):
        for person in range(per_condition):
            ability = generator.normal(0, PARTICIPANT_SD)
            for position, ((question, subset), shift) in enumerate(zip(questions, difficulty, strict=True)):
                effect = TRUE_LOG_ODDS_RATIO[subset] if condition == "pv" else 0.0
                correct = bool(generator.random() < expit(BASELINE[subset] + effect + ability + shift))
                answer = "cat" if correct else "dog"
                participant = f"{condition}-{person}"
                rows.append(
                    (
                        participant,
                        condition,
                        question,
                        subset == "correct",
                        "cat",
                        answer,
                        correct,
                        position + 1,
                        900,
                    )
                )
    return responses_frame(rows)


@pytest.fixture(scope="module")
def fits() -> list[dict]:
    return [mixed_model_results(simulated_study(seed), pair=("pv", "gradcam"), seed=0) for seed in SEEDS]


def test_the_fitted_contrasts_have_the_sign_of_the_true_effects_in_every_seed(fits: list[dict]) -> None:
    for fit in fits:
        assert fit["message"] is None
        signs = {contrast["subset"]: np.sign(contrast["log_odds_ratio"]) for contrast in fit["contrasts"]}
        assert signs == {"incorrect": 1.0, "correct": -1.0}
        assert fit["interaction"]["log_odds_ratio"] > 0


def test_the_95_percent_intervals_cover_the_true_effects_in_most_seeds(fits: list[dict]) -> None:
    covered = {subset: 0 for subset in TRUE_LOG_ODDS_RATIO}
    for fit in fits:
        for contrast in fit["contrasts"]:
            low, high = contrast["ci"]
            covered[contrast["subset"]] += low <= TRUE_LOG_ODDS_RATIO[contrast["subset"]] <= high
    # 95% intervals: 5 or 6 of 6 expected; fit_vb's own, too narrow, cover the truth in about 85%.
    assert all(count >= 5 for count in covered.values()), covered


def test_the_odds_ratio_is_the_exponential_of_the_log_odds_ratio_and_its_interval(fits: list[dict]) -> None:
    contrast = fits[0]["contrasts"][0]
    assert contrast["odds_ratio"] == pytest.approx(np.exp(contrast["log_odds_ratio"]))
    assert contrast["odds_ratio_ci"] == pytest.approx(np.exp(contrast["ci"]).tolist())
    low, high = contrast["ci"]
    assert (high - contrast["log_odds_ratio"]) == pytest.approx(1.959964 * contrast["sd"])
    assert low < contrast["log_odds_ratio"] < high


def test_the_random_effect_sds_come_out_near_the_simulated_ones(fits: list[dict]) -> None:
    participant = np.mean([fit["random_effects"]["participant"]["sd"] for fit in fits])
    question = np.mean([fit["random_effects"]["question"]["sd"] for fit in fits])
    assert participant == pytest.approx(PARTICIPANT_SD, abs=0.3)
    assert question == pytest.approx(QUESTION_SD, abs=0.4)


def test_the_fit_is_reproducible() -> None:
    answers = simulated_study(9, per_condition=6, per_subset=3)
    first = mixed_model_results(answers, pair=("pv", "gradcam"))
    assert mixed_model_results(answers, pair=("pv", "gradcam")) == first
    json.dumps(first, allow_nan=False)


def test_without_two_conditions_there_is_no_model_and_a_reason() -> None:
    answers = simulated_study(1, per_condition=3, per_subset=2)
    alone = mixed_model_results(answers, pair=None)
    assert (alone["fixed_effects"], alone["message"]) == ([], "No model: comparing needs two conditions.")
    only_gradcam = answers[answers["condition"] == "gradcam"]
    missing = mixed_model_results(only_gradcam, pair=("pv", "gradcam"))
    assert missing["message"] == "No model yet: no subset has answers counted in both 'pv' and 'gradcam'."
    assert missing["formula"] == FORMULA


def test_a_subset_answered_in_one_condition_only_is_left_out_of_the_model() -> None:
    answers = simulated_study(2, per_condition=5, per_subset=3)
    answers = answers[~((answers["condition"] == "gradcam") & ~answers["model_correct"])]
    fit = mixed_model_results(answers, pair=("pv", "gradcam"))
    assert [contrast["subset"] for contrast in fit["contrasts"]] == ["correct"]
    assert fit["interaction"] is None
    assert fit["n"]["answers"] == int(answers["model_correct"].sum())


@pytest.mark.django_db
def test_the_report_gives_the_odds_ratios_and_the_json_the_mixed_model() -> None:
    study = make_scenario()
    out = io.StringIO()
    call_command("analyze_results", study=study.slug, stdout=out)
    text = out.getvalue()
    assert f"Logistic mixed model: {FORMULA}" in text
    assert "model wrong: odds ratio GRADCAM / PV = " in text
    assert "model wrong: GRADCAM vs PV" in text
    out = io.StringIO()
    call_command("analyze_results", study=study.slug, format="json", stdout=out)
    model = json.loads(out.getvalue())["mixed_model"]
    assert (model["group"], model["reference"]) == ("gradcam", "pv")
    assert model["n"] == {"answers": 28, "participants": 4, "questions": 7}
    assert [effect["term"] for effect in model["fixed_effects"]] == [
        "incorrect",
        "incorrect:gradcam",
        "correct",
        "correct:gradcam",
    ]


@pytest.mark.django_db
def test_the_admin_page_and_the_api_show_the_mixed_model(admin_client: Client) -> None:
    study = make_scenario()
    page = admin_client.get(f"/admin/analysis/study/{study.slug}/results/").content.decode()
    assert "<h2>Logistic mixed model</h2>" in page
    assert "<li>model right: odds ratio GRADCAM / PV = " in page
    skipped = admin_client.get(f"/admin/analysis/study/{study.slug}/results/", {"skip_mixed_model": "on"})
    assert "Not fitted: the mixed model was switched off." in skipped.content.decode()
    api = admin_client.get(f"/api/studies/{study.slug}/results/", {"mixed_model": "false"}).json()
    assert api["mixed_model"]["message"] == "Not fitted: the mixed model was switched off."


@pytest.mark.django_db
def test_the_mixed_model_can_be_skipped() -> None:
    out = io.StringIO()
    call_command("analyze_results", study=make_scenario().slug, format="json", mixed_model=False, stdout=out)
    model = json.loads(out.getvalue())["mixed_model"]
    assert (model["fixed_effects"], model["message"]) == ([], "Not fitted: the mixed model was switched off.")


@pytest.mark.django_db
def test_a_study_without_answers_has_no_model_yet() -> None:
    out = io.StringIO()
    call_command("analyze_results", study=make_study(slug="empty", n_correct=1, n_wrong=1).slug, stdout=out)
    assert "No model yet: no subset has answers counted in both 'gradcam' and 'pv'." in out.getvalue()
