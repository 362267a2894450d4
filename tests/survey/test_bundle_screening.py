"""The bundle's screening and training parts: comprehension, practice, attention checks and display names."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey.models import CANT_TELL, ExtraQuestion, Study
from survey.services.bundles import BundleError, study_export_bundle, study_import_bundle
from survey.services.studies import study_readiness_problems
from tests.factories import make_study
from tests.survey.bundle_helpers import bundle_json_read, bundle_json_write, bundle_write
from tests.survey.helpers_checks import comprehension_add, instructed_add, practice_add, unmistakable_add

pytestmark = pytest.mark.django_db

COMPREHENSION = [
    {
        "prompt": "What is your task?",
        "choices": ["Guess the model", "Name the photo"],
        "answer": "Guess the model",
    }
]


def extras_bundle(directory: Path) -> dict:
    """A written bundle with a practice question and two attention checks, reusing its questions' files."""
    bundle_write(directory, n_questions=3)
    data = bundle_json_read(directory)
    question = data["questions"][0]
    data["conditions"][0]["comprehension"] = COMPREHENSION
    data["class_names"] = {"tvmonitor": "TV monitor"}
    data["unique_completion_codes"] = True
    data["expected_minutes"] = 9
    data["attention_allowance"] = 1
    data["practice"] = [{**question, "key": "practice_1"}]
    shared = {k: question[k] for k in ("image", "options", "explanations")}
    data["attention"] = [
        {"key": "check_1", "kind": "instructed", "answer": CANT_TELL, "position": 2, **shared},
        {"key": "check_2", "kind": "image", "answer": "tvmonitor", "labels": ["tvmonitor"], **shared},
    ]
    bundle_json_write(directory, data)
    return data


def test_a_bundle_brings_its_screening_and_training_into_the_study(tmp_path: Path) -> None:
    extras_bundle(tmp_path / "b")

    study = study_import_bundle(directory=tmp_path / "b", open_study=True)

    assert study.conditions.get(key="gradcam").comprehension == COMPREHENSION
    assert study.conditions.get(key="pv").comprehension == []
    assert (study.class_names, study.unique_completion_codes, study.expected_minutes) == (
        {"tvmonitor": "TV monitor"}, True, 9,
    )  # fmt: skip
    assert study.attention_allowance == 1
    practice = study.extra_questions.get(role=ExtraQuestion.Role.PRACTICE)
    assert (practice.key, practice.answer, practice.explanations.count()) == ("practice_1", "tvmonitor", 2)
    instructed, image = study.extra_questions.filter(role=ExtraQuestion.Role.ATTENTION).order_by("key")
    assert (instructed.kind, instructed.answer, instructed.position) == ("instructed", CANT_TELL, 2)
    assert instructed.instruction == "For this question, please choose \u201cI just can't tell\u201d."
    assert (image.kind, image.answer, image.position, image.instruction) == ("image", "tvmonitor", None, "")
    assert (practice.image_width, practice.image_height) == (8, 8)  # sizes recorded for the page
    assert study.is_open and study.questions.count() == 3


def test_a_study_survives_export_and_import_with_its_screening(tmp_path: Path) -> None:
    original = make_study(slug="screened", n_correct=2, n_wrong=1)
    comprehension_add(original)
    practice_add(original, 2)
    instructed_add(original, position=2)
    unmistakable_add(original, position=None)
    Study.objects.filter(pk=original.pk).update(
        class_names={"cat": "kitty"}, attention_allowance=2, expected_minutes=7, unique_completion_codes=True
    )
    original.refresh_from_db()
    directory = study_export_bundle(study=original, directory=tmp_path / "bundle")
    data = bundle_json_read(directory)
    data["slug"] = "screened-copy"
    bundle_json_write(directory, data)

    copy = study_import_bundle(directory=directory)

    def extras(study: Study) -> list[tuple]:
        fields = (
            "role",
            "kind",
            "key",
            "labels",
            "prediction",
            "options",
            "answer",
            "instruction",
            "position",
        )
        return list(study.extra_questions.order_by("role", "order").values_list(*fields))

    assert extras(copy) == extras(original)
    for field in ("class_names", "attention_allowance", "expected_minutes", "unique_completion_codes"):
        assert getattr(copy, field) == getattr(original, field)
    assert [c.comprehension for c in copy.conditions.all()] == [
        c.comprehension for c in original.conditions.all()
    ]
    assert study_readiness_problems(study=copy) == []


def _gradcam(data: dict) -> dict:
    return data["conditions"][0]


def _check(number: int) -> object:
    return lambda data: data["attention"][number]


BAD = [  # (the object to change, the change, the problem named)
    (_gradcam, {"comprehension": [{"prompt": "Q?", "choices": ["a", "b"], "answer": "c"}]},
     "condition gradcam, comprehension question 1: the answer 'c' is not one of its choices"),
    (_gradcam, {"comprehension": [{"prompt": "Q?", "choices": ["a"], "answer": "a"}]},
     "needs at least two choices"),
    (_check(0), {"kind": "riddle"}, "attention check check_1: kind 'riddle' must be one of"),
    (_check(1), {"answer": "cow"}, "the expected answer 'cow' is not one of its options"),
    (_check(1), {"answer": CANT_TELL}, "an image check's answer is the class it shows"),
    (_check(0), {"position": 4}, "position 4 is past the study's 3 questions"),
    (_check(0), {"explanations": {}}, "attention check check_1 has no explanation for condition pv"),
    (lambda data: data["practice"][0], {"key": "check_1"}, "key 'check_1' is used more than once"),
    (lambda data: data["class_names"], {"unicorn": "Unicorn"}, "class_names names 'unicorn'"),
    (lambda data: data, {"attention_allowance": -1}, "attention_allowance must be a whole number"),
    (lambda data: data, {"expected_minutes": 0}, "expected_minutes must be a whole number of at least 1"),
]  # fmt: skip


@pytest.mark.parametrize(("part", "change", "problem"), BAD)
def test_a_bad_screening_entry_is_named_and_nothing_is_imported(
    tmp_path: Path, part, change: dict, problem: str
) -> None:
    data = extras_bundle(tmp_path / "b")
    part(data).update(change)
    bundle_json_write(tmp_path / "b", data)

    with pytest.raises(BundleError) as refused:
        study_import_bundle(directory=tmp_path / "b")

    assert any(problem in line for line in refused.value.problems), refused.value.problems
    assert not Study.objects.exists()
