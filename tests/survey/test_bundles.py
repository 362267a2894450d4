from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from survey.models import ConditionExample, Explanation, Participant, Question, Study
from survey.services.bundles import BundleError, bundle_validate, study_export_bundle, study_import_bundle
from tests.factories import make_study, png_bytes
from tests.survey.bundle_helpers import bundle_json_read, bundle_json_write, bundle_write, media_files

pytestmark = pytest.mark.django_db


def _study_snapshot(study: Study) -> dict:
    """Everything a bundle carries, with images as their bytes."""
    return {
        "study": [
            study.name,
            study.description,
            study.classes,
            study.completion_code,
            study.assignment_policy,
        ],
        "conditions": [
            (c.key, c.name, c.intro, [(e.image.read(), e.caption) for e in c.examples.all()])
            for c in study.conditions.all()
        ],
        "questions": [
            (
                q.key,
                q.image.read(),
                q.labels,
                q.prediction,
                q.model_correct,
                q.options,
                sorted((e.condition.key, e.image.read()) for e in q.explanations.all()),
            )
            for q in study.questions.all()
        ],
    }


def test_a_study_survives_export_and_import(tmp_path: Path) -> None:
    original = make_study(slug="paper", n_correct=2, n_wrong=2)
    gradcam = original.conditions.get(key="gradcam")
    ConditionExample.objects.create(
        condition=gradcam, image=ContentFile(png_bytes((1, 2, 3)), name="ex.png"), caption="A cat"
    )
    directory = study_export_bundle(study=original, directory=tmp_path / "bundle")
    data = bundle_json_read(directory)
    data["slug"] = "paper-copy"
    bundle_json_write(directory, data)

    copy = study_import_bundle(directory=directory)

    assert copy.slug == "paper-copy"
    assert _study_snapshot(copy) == _study_snapshot(original)


def test_exporting_an_imported_bundle_gives_back_the_same_study_json(tmp_path: Path) -> None:
    study = study_import_bundle(directory=bundle_write(tmp_path / "in"))

    exported = bundle_json_read(study_export_bundle(study=study, directory=tmp_path / "out"))

    written = bundle_json_read(tmp_path / "in")
    assert exported["questions"][1]["options"] == written["questions"][1]["options"]
    assert [q["key"] for q in exported["questions"]] == [q["key"] for q in written["questions"]]
    assert exported["completion_code"] == study.completion_code
    assert (exported["n_correct"], exported["n_wrong"]) == (1, 2)
    image = exported["questions"][1]["explanations"]["pv"]
    assert (tmp_path / "out" / image).read_bytes() == (
        tmp_path / "in" / "explanations/2008_000001_pv.png"
    ).read_bytes()


def test_a_missing_completion_code_is_generated(tmp_path: Path) -> None:
    study = study_import_bundle(directory=bundle_write(tmp_path / "bundle"))

    assert re.fullmatch(r"[A-Z0-9]{8}", study.completion_code)


def test_validation_returns_the_bundle_as_a_spec(tmp_path: Path) -> None:
    spec = bundle_validate(directory=bundle_write(tmp_path / "bundle", n_questions=2))

    assert spec.slug == "bundled"
    assert [c.key for c in spec.conditions] == ["gradcam", "pv"]
    assert [q.model_correct for q in spec.questions] == [True, False]
    assert (
        spec.questions[1].explanations["pv"]
        == (tmp_path / "bundle/explanations/2008_000001_pv.png").resolve()
    )
    assert Study.objects.count() == 0


def test_a_storage_failure_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    # A plain file where the explanations folder should be: the input images store, explanations fail.
    blocker = Path(settings.MEDIA_ROOT) / "studies" / "explanations"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")

    with pytest.raises(OSError):
        study_import_bundle(directory=bundle_write(tmp_path / "bundle"))

    assert Study.objects.count() == 0
    assert Question.objects.count() == 0
    assert media_files() == [blocker]


def test_export_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    study = make_study(n_correct=1, n_wrong=0)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("keep me")

    with pytest.raises(BundleError, match="is not empty"):
        study_export_bundle(study=study, directory=tmp_path / "taken")

    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


def test_export_names_an_image_missing_from_storage_and_leaves_no_folder(tmp_path: Path) -> None:
    study = make_study(n_correct=1, n_wrong=0)
    explanation = Explanation.objects.get(condition__key="pv")
    explanation.image.storage.delete(explanation.image.name)

    with pytest.raises(BundleError, match="cannot export explanations/000_q000_pv"):
        study_export_bundle(study=study, directory=tmp_path / "out" / "bundle")

    assert list((tmp_path / "out").iterdir()) == []


def test_a_study_with_participants_cannot_be_replaced(tmp_path: Path) -> None:
    study = make_study(slug="bundled", n_correct=1, n_wrong=1)
    Participant.objects.create(study=study, condition=study.conditions.first(), seed=1)

    with pytest.raises(BundleError, match="already has participants"):
        study_import_bundle(directory=bundle_write(tmp_path / "bundle"), replace=True)

    assert Study.objects.get().questions.count() == 2
