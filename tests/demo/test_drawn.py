"""The drawn demo bundle: the paper's 16 right and 14 wrong questions, by the paper's rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.drawn import demo_bundle_write
from explainers.methods import METHODS
from survey import rules
from survey.models import CANT_TELL, ExtraQuestion
from survey.services.bundles import study_import_bundle
from survey.services.studies import study_readiness_problems

pytestmark = pytest.mark.django_db


def test_the_drawn_demo_study_json_follows_the_papers_rule(tmp_path: Path) -> None:
    data = json.loads((demo_bundle_write(directory=tmp_path) / "study.json").read_text())

    kinds = [rules.category(q["prediction_set"], q["labels"]) for q in data["questions"]]
    assert kinds.count(rules.CORRECT) == 16 and kinds.count(rules.INCORRECT) == 14
    for question in data["questions"]:
        assert question["model_correct"] == (
            rules.category(question["prediction_set"], question["labels"]) == "correct"
        )
        assert question["prediction"] == question["prediction_set"][0]
        assert set(question["labels"]) <= set(question["options"])  # the true label is always offered


def test_the_drawn_demo_names_and_introduces_its_conditions_as_the_methods_do(tmp_path: Path) -> None:
    study = study_import_bundle(directory=demo_bundle_write(directory=tmp_path))

    for condition in study.conditions.all():
        assert (condition.name, condition.intro) == (
            METHODS[condition.key].name,
            METHODS[condition.key].introduction,
        )


def test_the_drawn_demo_screens_and_trains_its_participants(tmp_path: Path) -> None:
    study = study_import_bundle(directory=demo_bundle_write(directory=tmp_path), open_study=True)

    for condition in study.conditions.all():
        assert [item["prompt"] for item in condition.comprehension] == [
            c.prompt for c in METHODS[condition.key].comprehension
        ]
    practice = study.extra_questions.filter(role=ExtraQuestion.Role.PRACTICE)
    assert sorted(q.model_correct for q in practice) == [False, True]
    checks = {check.kind: check for check in study.extra_questions.filter(role=ExtraQuestion.Role.ATTENTION)}
    assert checks["instructed"].answer == CANT_TELL and checks["instructed"].instruction
    assert checks["image"].answer == checks["image"].labels[0] == checks["image"].prediction
    assert study.class_label("diningtable") == "dining table" and study.expected_minutes
    assert study_readiness_problems(study=study) == []
