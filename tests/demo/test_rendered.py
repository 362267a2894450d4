"""The demo bundle: trained on synthetic VOC, rendered through the render services, cached for reruns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.rendered import demo_bundle_render
from explainers.services import RenderError
from survey import rules
from survey.services.bundles import study_import_bundle

pytestmark = pytest.mark.django_db


def test_the_demo_bundle_imports_as_a_study_that_follows_the_papers_rule_and_says_how_balanced_it_is(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    bundle = demo_bundle_render(
        directory=tmp_path / "bundle", work_dir=tmp_path / "work", budget="tiny", log=said.append
    )
    study = study_import_bundle(directory=bundle, open_study=True)
    right, asked = study.questions.filter(model_correct=True).count(), study.questions.count()
    data = json.loads((bundle / "study.json").read_text())
    assert data["selection"]["rule"] == rules.RULE_NAME
    assert (data["selection"]["picked_correct"], data["selection"]["picked_incorrect"]) == (
        right,
        asked - right,
    )
    for question in data["questions"]:
        expected = rules.CORRECT if question["model_correct"] else rules.INCORRECT
        assert rules.category(question["prediction_set"], question["labels"]) == expected
        assert question["prediction"] == question["prediction_set"][0]
    assert f"{right} right and {asked - right} wrong questions" in said[-1]
    if (right, asked) != (16, 30):
        assert "Asked for 16 right and 14 wrong: the split had too few." in said[-1]


def test_a_second_demo_run_reuses_the_trained_networks(tmp_path: Path) -> None:
    work = tmp_path / "work"
    demo_bundle_render(directory=tmp_path / "first", work_dir=work, budget="tiny", log=lambda line: None)
    trained = {path: path.stat().st_mtime_ns for path in work.rglob("*.pt")}
    said: list[str] = []
    demo_bundle_render(directory=tmp_path / "second", work_dir=work, budget="tiny", log=said.append)
    assert len(trained) == 2
    assert {path: path.stat().st_mtime_ns for path in work.rglob("*.pt")} == trained
    building = ("First run", "dataset:", "classifier:", "decoder:")
    assert not [line for line in said if line.startswith(building)]
    assert [line for line in said if line.startswith("render:")]
    first, second = (json.loads((tmp_path / name / "study.json").read_text()) for name in ("first", "second"))
    assert first == second


def test_an_unknown_budget_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="demo budget must be one of tiny, quick, full, got 'huge'"):
        demo_bundle_render(directory=tmp_path / "bundle", work_dir=tmp_path / "work", budget="huge")
