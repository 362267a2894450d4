"""The demo bundle: trained on synthetic VOC, rendered through the render services, cached for reruns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explainers.demo import demo_bundle_render
from explainers.services import RenderError
from survey.services.bundles import study_import_bundle

pytestmark = pytest.mark.django_db


def test_the_demo_bundle_imports_as_a_thirty_question_study_and_says_how_balanced_it_is(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    bundle = demo_bundle_render(
        directory=tmp_path / "bundle", work_dir=tmp_path / "work", budget="tiny", log=said.append
    )
    study = study_import_bundle(directory=bundle, open_study=True)
    right = study.questions.filter(model_correct=True).count()
    assert study.questions.count() == 30
    assert f"{right} right and {30 - right} wrong questions" in said[-1]
    if right != 16:
        assert "Asked for 16 right and 14 wrong: the split had too few." in said[-1]
    assert all(condition.examples.count() == 1 for condition in study.conditions.all())


def test_a_second_demo_run_reuses_the_trained_networks(tmp_path: Path) -> None:
    work = tmp_path / "work"
    demo_bundle_render(directory=tmp_path / "first", work_dir=work, budget="tiny", log=lambda line: None)
    trained = {path: path.stat().st_mtime_ns for path in work.rglob("*.pt")}
    said: list[str] = []
    demo_bundle_render(directory=tmp_path / "second", work_dir=work, budget="tiny", log=said.append)
    assert len(trained) == 2
    assert {path: path.stat().st_mtime_ns for path in work.rglob("*.pt")} == trained
    assert not [line for line in said if line.startswith("Training")]
    first, second = (json.loads((tmp_path / name / "study.json").read_text()) for name in ("first", "second"))
    assert first == second


def test_an_unknown_budget_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="demo budget must be one of tiny, quick, full, got 'huge'"):
        demo_bundle_render(directory=tmp_path / "bundle", work_dir=tmp_path / "work", budget="huge")
