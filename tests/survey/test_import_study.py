from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from survey.models import Condition, Explanation, Question, Study
from tests.factories import make_study
from tests.survey.bundle_helpers import bundle_json_read, bundle_json_write, bundle_write, media_files

pytestmark = pytest.mark.django_db


def _edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """A breakage that rewrites study.json."""

    def apply(directory: Path) -> None:
        data = bundle_json_read(directory)
        change(data)
        bundle_json_write(directory, data)

    return apply


def _set(path: str, value: object) -> Callable[[Path], None]:
    """Set one entry of study.json, e.g. _set("questions.1.options", [...])."""

    def change(data: dict) -> None:
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return _edit(change)


def _outside_file(directory: Path) -> None:
    (directory.parent / "outside.png").write_bytes((directory / "images" / "2008_000001.png").read_bytes())
    _set("questions.1.image", "../outside.png")(directory)


BAD_BUNDLES = {
    "missing study.json": (lambda d: (d / "study.json").unlink(), "has no study.json"),
    "invalid JSON": (
        lambda d: (d / "study.json").write_text('{"slug": "x",'),
        "study.json is not valid JSON",
    ),
    "wrong type": (_set("classes", "aeroplane"), "study.json: 'classes' must be a list of strings"),
    "missing file": (
        lambda d: (d / "explanations" / "2008_000001_pv.png").unlink(),
        "question 2008_000001, explanation pv: explanations/2008_000001_pv.png does not exist in the bundle",
    ),
    "file that is not an image": (
        lambda d: (d / "images" / "2008_000002.png").write_text("<html>not a picture</html>"),
        "question 2008_000002, image: images/2008_000002.png is not an image",
    ),
    "path escaping the bundle": (_outside_file, "question 2008_000001, image: ../outside.png points outside"),
    "absolute path": (
        _set("questions.0.image", "/etc/hostname"),
        "question 2008_000000, image: /etc/hostname points",
    ),
    "duplicate option": (
        _set("questions.1.options", ["tvmonitor", "cat", "cat", "chair"]),
        "question 2008_000001: option cat appears more than once",
    ),
    "option not a known class": (
        _set("questions.2.options", ["tvmonitor", "cat", "sofa", "spaceship"]),
        "question 2008_000002: option spaceship is not one of the study's classes",
    ),
    "prediction not among options": (
        _set("questions.1.prediction", "dog"),
        "question 2008_000001: the prediction 'dog' is not among the options",
    ),
    "I just can't tell among options": (
        _set("questions.1.options", ["tvmonitor", "cat", "sofa", "I just can't tell"]),
        'question 2008_000001: remove "I just can\'t tell" from the options',
    ),
    "condition without explanation": (
        _edit(lambda data: data["questions"][2]["explanations"].pop("pv")),
        "question 2008_000002 has no explanation for condition pv",
    ),
    "unknown condition key": (
        _set("questions.0.explanations.lime", "explanations/2008_000000_pv.png"),
        "question 2008_000000: explanation for unknown condition 'lime'",
    ),
    "duplicate question key": (
        _set("questions.2.key", "2008_000001"),
        "question key '2008_000001' is used more than once",
    ),
    "duplicate condition key": (
        _set("conditions.1.key", "gradcam"),
        "condition key 'gradcam' is used more than once",
    ),
    "model_correct inconsistent": (
        _set("questions.0.model_correct", False),
        "question 2008_000000: model_correct is false but the prediction 'tvmonitor' is among the labels",
    ),
    "label not a known class": (
        _set("questions.1.labels", ["kitten"]),
        "question 2008_000001: label 'kitten' is not one of the study's classes",
    ),
    "no questions": (_set("questions", []), "'questions' must be a list of at least one question"),
    "unknown field": (_set("questionz", []), "study.json: unknown field 'questionz'"),
    "bad slug": (_set("slug", "pv vs gradcam"), "slug 'pv vs gradcam' may hold only letters"),
    "counts that disagree": (
        _set("n_correct", 2),
        "study.json: n_correct is 2 but 1 of the 3 questions have model_correct true",
    ),
    "count that is not a number": (_set("n_wrong", "two"), "study.json: n_wrong must be a whole number"),
}


@pytest.mark.parametrize("kind", BAD_BUNDLES)
def test_a_bad_bundle_imports_nothing_and_names_the_bad_entry(tmp_path: Path, kind: str) -> None:
    breakage, message = BAD_BUNDLES[kind]
    directory = bundle_write(tmp_path / "bundle")
    breakage(directory)

    with pytest.raises(CommandError) as caught:
        call_command("import_study", str(directory))

    assert message in str(caught.value)
    assert Study.objects.count() == 0
    assert Question.objects.count() == 0
    assert media_files() == []


def test_a_bundle_whose_slug_is_taken_imports_nothing(tmp_path: Path) -> None:
    make_study(slug="bundled", n_correct=1, n_wrong=1)
    files_before = media_files()
    directory = bundle_write(tmp_path / "bundle", slug="bundled")

    with pytest.raises(CommandError, match="a study with slug 'bundled' already exists"):
        call_command("import_study", str(directory))

    assert Study.objects.count() == 1
    assert Question.objects.count() == 2
    assert media_files() == files_before


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    directory = bundle_write(tmp_path / "bundle")
    _set("questions.0.prediction", "dog")(directory)
    (directory / "explanations" / "2008_000002_gradcam.png").unlink()

    with pytest.raises(CommandError) as caught:
        call_command("import_study", str(directory))

    assert "question 2008_000000: the prediction 'dog' is not among the options" in str(caught.value)
    assert "explanations/2008_000002_gradcam.png does not exist" in str(caught.value)


def test_a_good_bundle_imports_as_a_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = bundle_write(tmp_path / "bundle", n_questions=4)

    call_command("import_study", str(directory))

    study = Study.objects.get(slug="bundled")
    assert study.status == Study.Status.DRAFT
    assert list(study.conditions.values_list("key", flat=True)) == ["gradcam", "pv"]
    assert study.questions.count() == 4
    assert Explanation.objects.filter(question__study=study).count() == 8
    assert "Imported study 'bundled': 2 conditions, 4 questions, status draft" in capsys.readouterr().out


def test_the_open_flag_opens_the_imported_study(tmp_path: Path) -> None:
    directory = bundle_write(tmp_path / "bundle")
    assert "completion_code" not in bundle_json_read(directory)  # opening needs one: import makes it

    call_command("import_study", str(directory), "--open")

    study = Study.objects.get(slug="bundled")
    assert study.status == Study.Status.OPEN and study.completion_code


def test_counts_that_agree_with_the_questions_import(tmp_path: Path) -> None:
    directory = bundle_write(tmp_path / "bundle", n_questions=4)
    _edit(lambda data: data.update(n_correct=1, n_wrong=3))(directory)

    call_command("import_study", str(directory))

    assert Study.objects.get(slug="bundled").questions.filter(model_correct=False).count() == 3


def test_the_replace_flag_replaces_a_study_nobody_took_part_in(
    tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    call_command("import_study", str(bundle_write(tmp_path / "first", n_questions=2)))
    old_files = media_files()
    directory = bundle_write(tmp_path / "second", n_questions=3)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_study", str(directory), "--replace", "--open")

    study = Study.objects.get(slug="bundled")
    assert (study.status, study.questions.count(), Condition.objects.count()) == (Study.Status.OPEN, 3, 2)
    assert len(media_files()) == 3 + 3 * 2 + 2  # inputs, explanations and examples of the new study only
    assert not set(old_files) & set(media_files())
