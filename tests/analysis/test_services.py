"""Results gathered from the database, on a small study whose figures are easy to work out by hand."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone

from analysis.responses import FILE_DROPOUT_NOTE, responses_read
from analysis.results import AnalysisError, AnalysisOptions
from analysis.services import (
    file_results,
    study_get,
    study_participants,
    study_responses,
    study_results,
)
from core.errors import ApplicationError
from survey.models import Participant
from survey.selectors.studies import study_condition_counts
from tests.analysis.builders import answer_questions, make_participant, make_scenario, take_part
from tests.factories import make_study

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _an_hour_to_abandon(settings) -> None:
    settings.SURVEY_ABANDON_AFTER_MINUTES = 60


def test_table_1_counts_completed_participants_only() -> None:
    conditions = study_results(study=make_scenario(), options=AnalysisOptions()).results["conditions"]
    gradcam, pv = conditions["gradcam"], conditions["pv"]
    assert (gradcam["n"], pv["n"]) == (2, 2)
    # gradcam, model wrong: accuracies 0 and 1/3, SD 0.2357 (ddof=1), SE = SD / sqrt(2) = 1/6.
    assert gradcam["incorrect"] == {
        "n": 2,
        "mean": pytest.approx(1 / 6),
        "se": pytest.approx(1 / 6),
        "median": pytest.approx(1 / 6),
        "chance": 0.25,
        "cant_tell_share": pytest.approx(1 / 6),
    }
    assert gradcam["correct"]["mean"] == pytest.approx((1 + 3 / 4) / 2)
    assert pv["incorrect"]["mean"] == pytest.approx((2 / 3 + 1) / 2)
    assert pv["correct"]["median"] == pytest.approx(3 / 4)


def test_the_tests_compare_gradcam_with_pv_under_the_papers_hypotheses() -> None:
    tests = study_results(study=make_scenario(), options=AnalysisOptions()).results["tests"]
    # Model wrong: gradcam 0, 1/3 against pv 2/3, 1: gradcam never wins, U = 0 and r = -1.
    assert tests["incorrect"]["u"] == 0.0
    assert tests["incorrect"]["rank_biserial"] == -1.0
    assert tests["incorrect"]["hypothesis"] == "Acc(gradcam) < Acc(pv)"
    # Model right: gradcam 1, 3/4 against pv 1/2, 1: pairs won 1 + 0.5 + 1 + 0 = 2.5.
    assert tests["correct"]["u"] == 2.5
    assert tests["correct"]["alternative"] == "greater"


def test_dropout_counts_a_stale_participant_as_abandoned() -> None:
    dropout = study_results(study=make_scenario(), options=AnalysisOptions()).results["dropout"]
    assert dropout == {
        "gradcam": {"started": 4, "completed": 2, "abandoned": 2, "in_progress": 0},
        "pv": {"started": 3, "completed": 2, "abandoned": 0, "in_progress": 1},
    }


def test_the_studys_own_timeout_overrides_the_setting() -> None:
    study = make_scenario()
    study.abandon_after_minutes = 180
    study.save()
    dropout = study_results(study=study, options=AnalysisOptions()).results["dropout"]
    assert dropout["gradcam"] == {"started": 4, "completed": 2, "abandoned": 1, "in_progress": 1}


def test_dropout_is_what_the_survey_counts_for_the_study() -> None:
    study = make_scenario()
    later = timezone.now() + timedelta(hours=3)
    dropout = study_results(study=study, options=AnalysisOptions(), now=later).results["dropout"]
    assert dropout == study_condition_counts(study=study, now=later)
    assert dropout["pv"]["abandoned"] == 1


def test_dropout_from_a_file_says_what_it_cannot_count(tmp_path: Path) -> None:
    study = make_scenario()
    path = tmp_path / "responses.csv"
    call_command("export_responses", study.slug, str(path))
    from_file = file_results(path=path, options=AnalysisOptions()).results
    # The stale gradcam participant never answered; the pv one still in progress looks abandoned.
    assert from_file["dropout"] == {
        "gradcam": {"started": 3, "completed": 2, "abandoned": 1, "in_progress": 0},
        "pv": {"started": 3, "completed": 2, "abandoned": 1, "in_progress": 0},
    }
    assert FILE_DROPOUT_NOTE in from_file["messages"]
    assert "never answered is missing" in FILE_DROPOUT_NOTE
    assert "including participants still in progress" in FILE_DROPOUT_NOTE
    assert FILE_DROPOUT_NOTE not in study_results(study=study, options=AnalysisOptions()).results["messages"]


def test_min_answers_lets_in_partial_participants_with_enough_answers_in_a_subset() -> None:
    study = make_scenario()
    two = study_results(study=study, options=AnalysisOptions(min_answers=2)).results["conditions"]
    assert (two["pv"]["n"], two["pv"]["correct"]["n"], two["pv"]["incorrect"]["n"]) == (3, 3, 2)
    assert two["gradcam"]["correct"]["n"] == 2
    one = study_results(study=study, options=AnalysisOptions(min_answers=1)).results["conditions"]
    assert one["gradcam"]["correct"]["n"] == 3


def test_per_question_accuracy_counts_only_the_subsets_a_partial_participant_is_counted_in() -> None:
    study = make_study(slug="partial", n_correct=2, n_wrong=2)
    take_part(study, "pv", wrong_hits=0, right_hits=0)
    partial = make_participant(study, "pv", status=Participant.Status.IN_PROGRESS)
    answer_questions(partial, list(study.questions.filter(model_correct=True)), hits=2)
    answer_questions(partial, list(study.questions.filter(model_correct=False))[:1], hits=1, start=3)
    results = study_results(study=study, options=AnalysisOptions(min_answers=2)).results
    rows = {row["question"]: row for row in results["questions"] if row["condition"] == "pv"}
    # Counted where the model was right (2 answers), not where it was wrong (1 answer).
    assert (rows["q000"]["n"], rows["q000"]["accuracy"]) == (2, 0.5)
    assert (rows["q002"]["n"], rows["q002"]["accuracy"]) == (1, 0.0)
    assert results["conditions"]["pv"]["incorrect"]["n"] == 1


def test_questions_come_in_the_studys_order_not_by_key() -> None:
    study = make_study(slug="ordered", n_correct=2, n_wrong=1)
    for order, key in enumerate(["q002", "q000", "q001"]):
        study.questions.filter(key=key).update(order=order)
    take_part(study, "pv", wrong_hits=1, right_hits=1)
    results = study_results(study=study, options=AnalysisOptions()).results
    assert [row["question"] for row in results["questions"]] == ["q002", "q000", "q001"]


def test_participants_appear_as_pseudonyms_keyed_by_the_studys_salt() -> None:
    study = make_scenario()
    tokens = study.participants.values_list("token", flat=True)
    expected = {
        hmac.new(study.hash_salt.encode(), t.encode(), hashlib.sha256).hexdigest()[:16] for t in tokens
    }
    assert set(study_responses(study=study)["participant"]) < expected
    assert set(study_participants(study=study)["participant"]) == expected


def test_per_question_accuracy_and_response_times_are_per_condition() -> None:
    results = study_results(study=make_scenario(), options=AnalysisOptions()).results
    first_wrong = {row["condition"]: row for row in results["questions"] if row["question"] == "q004"}
    assert first_wrong["gradcam"]["accuracy"] == 0.5
    assert first_wrong["pv"]["accuracy"] == 1.0
    assert first_wrong["gradcam"]["model_correct"] is False
    cant_tell = next(
        r for r in results["questions"] if (r["question"], r["condition"]) == ("q005", "gradcam")
    )
    assert cant_tell["cant_tell_share"] == 0.5
    assert [row["question"] for row in results["questions"]][:4] == ["q000", "q000", "q001", "q001"]
    times = {(row["question"], row["condition"]): row["median_ms"] for row in results["response_times"]}
    assert times[("q004", "gradcam")] == 1000.0
    assert times[("q001", "pv")] == 1100.0


def test_a_study_without_answers_gives_empty_figures_and_messages_not_nan() -> None:
    results = study_results(study=make_study(slug="empty", n_correct=2, n_wrong=2), options=AnalysisOptions())
    results = results.results
    assert results["messages"] == ["No completed participants yet."]
    assert results["conditions"]["pv"]["incorrect"] == {
        "n": 0,
        "mean": None,
        "se": None,
        "median": None,
        "chance": 0.25,
        "cant_tell_share": None,
    }
    assert results["tests"]["incorrect"]["u"] is None
    assert "No participants counted in 'gradcam' for model wrong" in results["tests"]["incorrect"]["message"]
    json.dumps(results, allow_nan=False)


def test_identical_accuracies_give_a_message_instead_of_z_and_p() -> None:
    study = make_study(slug="flat", n_correct=2, n_wrong=2)
    for condition in ("gradcam", "pv"):
        take_part(study, condition, wrong_hits=0, right_hits=2)
    test = study_results(study=study, options=AnalysisOptions()).results["tests"]["incorrect"]
    assert (test["u"], test["z"], test["p"]) == (0.5, None, None)
    assert "zero variance" in test["message"]
    json.dumps(test, allow_nan=False)


def test_an_unknown_condition_is_refused_with_the_ones_there_are() -> None:
    with pytest.raises(AnalysisError, match="Unknown condition 'lime'; the conditions here are: gradcam, pv"):
        study_results(study=make_scenario(), options=AnalysisOptions(conditions=("gradcam", "lime")))


def test_options_that_cannot_apply_are_an_application_error_with_a_400() -> None:
    with pytest.raises(ApplicationError) as caught:
        AnalysisOptions(min_answers=0)
    assert isinstance(caught.value, AnalysisError)
    assert (caught.value.status, caught.value.message) == (400, "min_answers must be at least 1, got 0")


def test_other_conditions_default_to_the_first_two_and_can_be_swapped() -> None:
    study = make_study(slug="three", conditions=("lime", "shap", "pv"), n_correct=1, n_wrong=1)
    assert study_results(study=study, options=AnalysisOptions()).results["options"]["conditions"] == [
        "lime",
        "shap",
    ]
    swapped = study_results(study=study, options=AnalysisOptions(conditions=("pv", "lime"))).results
    assert swapped["tests"]["correct"]["group"] == "pv"


def test_conditions_come_in_the_studys_order() -> None:
    study = make_study(
        slug="ordered-conditions", conditions=("pv", "none", "gradcam"), n_correct=1, n_wrong=1
    )
    study.conditions.filter(key="gradcam").update(order=0)
    study.conditions.filter(key="pv").update(order=1)
    study.conditions.filter(key="none").update(order=2)
    results = study_results(study=study, options=AnalysisOptions()).results
    assert list(results["conditions"]) == ["gradcam", "pv", "none"]
    assert list(results["dropout"]) == ["gradcam", "pv", "none"]


def test_the_default_pair_is_the_studys_first_two_conditions_whatever_their_keys() -> None:
    study = make_study(slug="pv-first", conditions=("pv", "gradcam"), n_correct=1, n_wrong=1)
    results = study_results(study=study, options=AnalysisOptions()).results
    assert results["options"]["conditions"] == ["pv", "gradcam"]
    assert results["tests"]["incorrect"]["hypothesis"] == "Acc(pv) < Acc(gradcam)"


def test_an_export_keeps_the_studys_condition_order_whoever_started_first(tmp_path: Path) -> None:
    study = make_study(slug="late-gradcam", n_correct=1, n_wrong=1)
    take_part(study, "pv", wrong_hits=1, right_hits=1)
    take_part(study, "gradcam", wrong_hits=0, right_hits=1)
    path = tmp_path / "responses.csv"
    call_command("export_responses", study.slug, str(path))
    results = file_results(path=path, options=AnalysisOptions()).results
    assert list(results["conditions"]) == ["gradcam", "pv"]
    assert results["options"]["conditions"] == ["gradcam", "pv"]


def test_an_unknown_study_is_an_analysis_error_with_a_404() -> None:
    with pytest.raises(AnalysisError) as caught:
        study_get(slug="nope")
    assert (caught.value.status, caught.value.message) == (404, "No study with slug 'nope'.")


def test_a_single_condition_study_gets_its_summaries_and_no_test() -> None:
    study = make_study(slug="alone", conditions=("pv",), n_correct=1, n_wrong=1)
    take_part(study, "pv", wrong_hits=1, right_hits=0)
    results = study_results(study=study, options=AnalysisOptions()).results
    assert results["tests"] == {}
    assert results["messages"] == ["No test: comparing needs two conditions, and there are 1."]
    assert results["conditions"]["pv"]["incorrect"]["mean"] == 1.0


def test_export_then_import_gives_back_the_gathered_frame(tmp_path: Path) -> None:
    study = make_scenario()
    path = tmp_path / "responses.csv"
    call_command("export_responses", study.slug, str(path))
    gathered = study_responses(study=study)
    assert len(gathered) == 2 * 7 + 1 + 2 * 7 + 2
    pd.testing.assert_frame_equal(responses_read(path), gathered)


def test_results_from_the_exported_file_match_the_database_for_completed_participants(tmp_path: Path) -> None:
    study = make_scenario()
    path = tmp_path / "responses.csv"
    call_command("export_responses", study.slug, str(path))
    from_db = study_results(study=study, options=AnalysisOptions()).results
    out = tmp_path / "out.json"
    with out.open("w") as stream:
        call_command("analyze_results", responses=str(path), format="json", stdout=stream)
    from_file = json.loads(out.read_text())
    for key in ("gradcam", "pv"):
        for subset in ("incorrect", "correct"):
            assert from_file["conditions"][key][subset] == from_db["conditions"][key][subset]
    assert from_file["tests"] == from_db["tests"]
    assert from_file["questions"] == from_db["questions"]
