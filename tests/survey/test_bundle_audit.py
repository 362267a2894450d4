"""A bundle's audit fields: each question's prediction set and posteriors, and the study's selection."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from survey.services.bundles import BundleError, study_export_bundle, study_import_bundle
from tests.survey.bundle_helpers import bundle_json_read, bundle_json_write, bundle_write

pytestmark = pytest.mark.django_db

SELECTION = {
    "rule": "paper-section-4",
    "split": "val",
    "seed": 3,
    "difficult": "labels",
    "eligible_correct": 40,
    "eligible_incorrect": 25,
    "not_eligible_partial_overlap": 30,
    "not_eligible_empty_prediction_set": 12,
    "left_out_empty_mask": 1,
}


def posteriors(**high: float) -> dict[str, float]:
    return {"tvmonitor": 0.1, "cat": 0.1, "sofa": 0.1, "chair": 0.1, **high}


def audited_bundle(directory: Path) -> Path:
    """The helpers' bundle (question 0 right, 1 and 2 wrong: the model says tvmonitor to a cat), audited."""
    bundle_write(directory)
    data = bundle_json_read(directory)
    data["selection"] = SELECTION
    for question in data["questions"]:
        question["prediction_set"] = ["tvmonitor"]
        question["posteriors"] = posteriors(tvmonitor=0.8765)
    bundle_json_write(directory, data)
    return directory


def edited(directory: Path, change: dict) -> Path:
    data = bundle_json_read(directory)
    data["questions"][1].update(change)
    bundle_json_write(directory, data)
    return directory


def problems(directory: Path) -> str:
    with pytest.raises(BundleError) as refused:
        study_import_bundle(directory=directory)
    return str(refused.value)


def test_the_audit_fields_survive_an_import_and_an_export(tmp_path: Path) -> None:
    study = study_import_bundle(directory=audited_bundle(tmp_path / "in"))

    question = study.questions.get(key="2008_000001")
    assert study.selection == SELECTION
    assert question.prediction_set == ["tvmonitor"]
    assert question.posteriors["tvmonitor"] == 0.8765
    exported = bundle_json_read(study_export_bundle(study=study, directory=tmp_path / "out"))
    assert exported["selection"] == SELECTION
    assert exported["questions"][1]["prediction_set"] == ["tvmonitor"]
    assert exported["questions"][1]["posteriors"] == posteriors(tvmonitor=0.8765)


def test_an_older_bundle_without_audit_fields_still_imports(tmp_path: Path) -> None:
    study = study_import_bundle(directory=bundle_write(tmp_path / "old"))

    assert study.selection == {}
    assert study.questions.count() == 3
    assert all(q.prediction_set == [] and q.posteriors == {} for q in study.questions.all())


def test_a_prediction_set_that_does_not_follow_the_posteriors_is_refused(tmp_path: Path) -> None:
    bundle = edited(audited_bundle(tmp_path / "b"), {"posteriors": posteriors(tvmonitor=0.9, sofa=0.7)})

    assert "question 2008_000001: sofa has posterior 0.7 > 0.5 but is not in the prediction_set" in problems(
        bundle
    )


def test_a_class_in_the_prediction_set_below_one_half_is_refused(tmp_path: Path) -> None:
    bundle = edited(
        audited_bundle(tmp_path / "b"),
        {"prediction_set": ["tvmonitor", "sofa"], "posteriors": posteriors(tvmonitor=0.9, sofa=0.3)},
    )

    assert "question 2008_000001: sofa is in the prediction_set but its posterior is 0.3" in problems(bundle)


def test_a_prediction_that_is_not_the_top_of_the_prediction_set_is_refused(tmp_path: Path) -> None:
    bundle = edited(
        audited_bundle(tmp_path / "b"),
        {"prediction_set": ["sofa", "tvmonitor"], "posteriors": posteriors(tvmonitor=0.6, sofa=0.9)},
    )

    message = problems(bundle)
    assert "the prediction 'tvmonitor' must be the top of the prediction_set ['sofa', 'tvmonitor']" in message
    assert "the prediction 'tvmonitor' does not have the highest posterior" in message


def test_a_model_correct_flag_against_the_rule_is_refused(tmp_path: Path) -> None:
    data_dir = audited_bundle(tmp_path / "b")
    data = bundle_json_read(data_dir)
    data["questions"][0].update(labels=["tvmonitor", "cat"], options=["tvmonitor", "cat", "sofa", "chair"])
    bundle_json_write(data_dir, data)

    assert (
        "question 2008_000000: prediction_set ['tvmonitor'] and labels ['tvmonitor', 'cat'] are a partial "
        "overlap: not eligible under the rule"
    ) in problems(data_dir)


def test_an_empty_prediction_set_is_refused(tmp_path: Path) -> None:
    bundle = edited(audited_bundle(tmp_path / "b"), {"prediction_set": [], "posteriors": posteriors()})

    assert "the prediction 'tvmonitor' must be the top of the prediction_set []" in problems(bundle)


def test_posteriors_outside_zero_and_one_or_of_unknown_classes_are_refused(tmp_path: Path) -> None:
    bundle = edited(audited_bundle(tmp_path / "b"), {"posteriors": {"tvmonitor": 1.5, "unicorn": 0.2}})

    assert "question 2008_000001: posteriors name unicorn, not among the study's classes" in problems(bundle)


def test_a_selection_with_a_bad_policy_or_count_is_refused(tmp_path: Path) -> None:
    bundle = audited_bundle(tmp_path / "b")
    data = bundle_json_read(bundle)
    data["selection"] = {**SELECTION, "difficult": "sometimes", "seed": "three", "colour": "red"}
    bundle_json_write(bundle, data)

    message = problems(bundle)
    assert "study.json: selection has an unknown field 'colour'" in message
    assert "study.json: selection's 'seed' must be a whole number" in message
    assert "study.json: selection's difficult policy must be one of labels, ignore" in message


def test_the_admin_shows_the_selection_summary_and_each_questions_prediction_set(
    tmp_path: Path, admin_client: Client
) -> None:
    study = study_import_bundle(directory=audited_bundle(tmp_path / "b"))
    question = study.questions.get(key="2008_000001")

    study_page = admin_client.get(reverse("admin:survey_study_change", args=[study.pk])).content.decode()
    question_page = admin_client.get(
        reverse("admin:survey_question_change", args=[question.pk])
    ).content.decode()

    assert "<tr><th>split</th><td>val</td></tr>" in study_page
    assert "<tr><th>not eligible: P and L overlap in part</th><td>30</td></tr>" in study_page
    assert "P = {tvmonitor}" in question_page
    assert "<tr><td><b>tvmonitor</b></td><td>0.8765</td></tr>" in question_page
