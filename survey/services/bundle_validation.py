"""Reading and validating a study bundle (study.json and its images) before anything is written.

The format is documented, and its types defined, in survey.services.bundle_spec. Import validates the
whole bundle before it writes anything and reports every problem at once, each naming the entry at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from PIL import Image

from core.errors import ApplicationError
from survey.models import (
    CANT_TELL,
    CANT_TELL_LABEL,
    Study,
)
from survey.selectors.studies import study_by_slug, study_has_participants
from survey.services.bundle_screening import (
    attention_read,
    class_names_read,
    comprehension_read,
    duplicates,
    entry_name,
)
from survey.services.bundle_spec import (
    BUNDLE_FILE,
    CONDITION_FIELDS,
    EXAMPLE_FIELDS,
    QUESTION_FIELDS,
    STUDY_FIELDS,
    BundleSpec,
    ConditionSpec,
    ExampleSpec,
    QuestionSpec,
)
from survey.services.selection_audit import question_audit_problems, selection_problems
from survey.services.studies import question_problems

WEB_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


class BundleError(ApplicationError):
    """The bundle cannot be imported (or exported); `problems` names each bad entry."""

    status = 400
    title = "The bundle cannot be used"

    def __init__(self, problems: Iterable[str]) -> None:
        problems = list(problems)
        super().__init__("\n".join(problems), extra={"problems": problems})

    @property
    def problems(self) -> list[str]:
        return self.extra["problems"]


# Reading and validating


class _Reader:
    """Reads study.json field by field, collecting every problem rather than stopping at the first.

    Readers return a harmless placeholder for a bad value; a spec is only handed out when no problem
    was found, so no placeholder ever leaves this module.
    """

    def __init__(self, directory: Path) -> None:
        self.root = directory.resolve()
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def fields(self, value: object, where: str, spec: tuple[set[str], set[str]]) -> dict | None:
        required, optional = spec
        if not isinstance(value, dict):
            self.fail(f"{where}: must be a JSON object, got {_json_type(value)}")
            return None
        for name in sorted(required - value.keys()):
            self.fail(f"{where}: {name!r} is missing")
        for name in sorted(value.keys() - required - optional):
            self.fail(f"{where}: unknown field {name!r} (expected {', '.join(sorted(required | optional))})")
        return value

    def text(
        self, obj: dict, name: str, where: str, *, required: bool = True, max_length: int | None = 200
    ) -> str:
        value = obj.get(name, "")
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            self.fail(f"{where}: {name!r} must be a string, got {_json_type(value)}")
            return ""
        if required and name in obj and not value.strip():
            self.fail(f"{where}: {name!r} must not be empty")
        if max_length is not None and len(value) > max_length:
            self.fail(f"{where}: {name!r} is longer than {max_length} characters")
        return value

    def strings(self, obj: dict, name: str, where: str) -> list[str] | None:
        value = obj.get(name)
        if name not in obj:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(f"{where}: {name!r} must be a list of strings")
            return None
        return value

    def boolean(self, obj: dict, name: str, where: str) -> bool | None:
        value = obj.get(name)
        if name in obj and not isinstance(value, bool):
            self.fail(f"{where}: {name!r} must be true or false, got {_json_type(value)}")
            return None
        return value

    def image(self, value: object, where: str) -> Path:
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            self.fail(f"{where}: must be a file path inside the bundle, got {_json_type(value)}")
            return self.root
        path = (self.root / value).resolve()
        if not path.is_relative_to(self.root):
            self.fail(f"{where}: {value} points outside the bundle")
        elif not path.is_file():
            self.fail(f"{where}: {value} does not exist in the bundle")
        elif problem := image_problem(path):
            self.fail(f"{where}: {value} {problem}")
        return path

    def explanations(self, obj: dict, where: str, *, condition_keys: list[str]) -> dict[str, Path]:
        """An entry's {condition key: image}, one for every condition and none for another."""
        raw = obj.get("explanations", {})
        if not isinstance(raw, dict):
            self.fail(f"{where}: 'explanations' must map condition keys to image paths")
            return {}
        if not condition_keys:  # the conditions are broken, and reported: matching them would add noise
            condition_keys = list(raw)
        for key in condition_keys:
            if key not in raw:
                self.fail(f"{where} has no explanation for condition {key}")
        for key in raw:
            if key not in condition_keys:
                self.fail(f"{where}: explanation for unknown condition {key!r}")
        present = [key for key in condition_keys if key in raw]
        return {key: self.image(raw[key], f"{where}, explanation {key}") for key in present}

    def whole_number(self, obj: dict, name: str, where: str, *, minimum: int) -> int | None:
        value = obj.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            self.fail(f"{where}: {name} must be a whole number of at least {minimum}, got {value!r}")
            return None
        return value


def bundle_validate(*, directory: Path, replace: bool = False) -> BundleSpec:
    """Check everything in the bundle; raise BundleError listing every problem, or return its spec."""
    reader = _Reader(directory)
    top = reader.fields(_bundle_load(directory), BUNDLE_FILE, STUDY_FIELDS)
    if top is None:
        raise BundleError(reader.problems)
    slug = _slug_read(reader, top, replace=replace)
    name = reader.text(top, "name", BUNDLE_FILE)
    classes = _classes_read(reader, top)
    conditions = _conditions_read(reader, top.get("conditions"))
    keys = [condition.key for condition in conditions]
    questions = _questions_read(reader, top.get("questions"), classes=classes, condition_keys=keys)
    practice = _questions_read(
        reader, top.get("practice"), classes=classes, condition_keys=keys, kind="practice question"
    )
    attention = attention_read(
        reader, top.get("attention"), classes=classes, condition_keys=keys, n_questions=len(questions)
    )
    for key in duplicates([*(q.key for q in practice), *(c.key for c in attention)]):
        reader.fail(f"practice question or attention check key {key!r} is used more than once")
    spec = BundleSpec(
        directory=directory,
        slug=slug,
        name=name,
        description=reader.text(top, "description", BUNDLE_FILE, required=False, max_length=None),
        classes=tuple(classes),
        completion_code=reader.text(top, "completion_code", BUNDLE_FILE, required=False, max_length=64),
        completion_redirect_url=_url_read(reader, top),
        assignment_policy=_policy_read(reader, top),
        abandon_after_minutes=_minutes_read(reader, top),
        conditions=tuple(conditions),
        questions=tuple(questions),
        selection=_selection_read(reader, top),
        saliency=reader.text(top, "saliency", BUNDLE_FILE, required=False, max_length=20),
        unique_completion_codes=bool(reader.boolean(top, "unique_completion_codes", BUNDLE_FILE)),
        expected_minutes=reader.whole_number(top, "expected_minutes", BUNDLE_FILE, minimum=1),
        class_names=class_names_read(reader, top, classes=classes),
        practice=tuple(practice),
        attention=tuple(attention),
        attention_allowance=reader.whole_number(top, "attention_allowance", BUNDLE_FILE, minimum=0) or 0,
    )
    _counts_check(reader, top, questions)
    if reader.problems:
        raise BundleError(reader.problems)
    return spec


def _bundle_load(directory: Path) -> object:
    if not directory.is_dir():
        raise BundleError([f"{directory} is not a folder"])
    path = directory / BUNDLE_FILE
    if not path.is_file():
        raise BundleError([f"{directory} has no {BUNDLE_FILE}"])
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BundleError([f"{BUNDLE_FILE} is not UTF-8 text ({exc.reason})"]) from exc
    except json.JSONDecodeError as exc:
        raise BundleError([f"{BUNDLE_FILE} is not valid JSON: {exc.msg} (line {exc.lineno})"]) from exc


def image_problem(path: Path) -> str | None:
    """What keeps the file from being shown in a browser, or None."""
    try:
        with Image.open(path) as image:
            image.verify()
            kind = image.format
    # Pillow signals a bad file with many exception types (OSError, SyntaxError, ValueError, ...).
    except Exception:
        return "is not an image"
    if kind not in WEB_IMAGE_FORMATS:
        return f"is a {kind} image; browsers need PNG, JPEG, GIF or WebP"
    return None


def _slug_read(reader: _Reader, top: dict, *, replace: bool) -> str:
    slug = reader.text(top, "slug", BUNDLE_FILE, max_length=50)
    if not slug:
        return slug
    try:
        validate_slug(slug)
    except ValidationError:
        reader.fail(f"{BUNDLE_FILE}: slug {slug!r} may hold only letters, digits, hyphens and underscores")
        return slug
    existing = study_by_slug(slug=slug)
    if existing and not replace:
        reader.fail(f"a study with slug {slug!r} already exists; change the slug in {BUNDLE_FILE}")
    elif existing and study_has_participants(study=existing):
        reader.fail(f"the study {slug!r} already has participants; it cannot be replaced")
    return slug


def _classes_read(reader: _Reader, top: dict) -> list[str]:
    classes = reader.strings(top, "classes", BUNDLE_FILE) or []
    if "classes" in top and not classes:
        reader.fail(f"{BUNDLE_FILE}: 'classes' must list at least one class")
    for name in duplicates(classes):
        reader.fail(f"{BUNDLE_FILE}: class {name!r} is listed more than once")
    for name in classes:
        if not name.strip() or len(name) > 100 or name in {CANT_TELL, CANT_TELL_LABEL}:
            reader.fail(f"{BUNDLE_FILE}: {name!r} cannot be a class (empty, too long or reserved)")
    return classes


def _url_read(reader: _Reader, top: dict) -> str:
    url = reader.text(top, "completion_redirect_url", BUNDLE_FILE, required=False)
    try:
        if url:
            URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        reader.fail(f"{BUNDLE_FILE}: completion_redirect_url {url!r} is not an http(s) URL")
    return url


def _policy_read(reader: _Reader, top: dict) -> str:
    policy = reader.text(top, "assignment_policy", BUNDLE_FILE, required=False) or Study.Policy.ROUND_ROBIN
    if policy not in Study.Policy.values:
        reader.fail(f"{BUNDLE_FILE}: assignment_policy {policy!r} must be one of {', '.join(Study.Policy)}")
    return policy


def _minutes_read(reader: _Reader, top: dict) -> int | None:
    minutes = top.get("abandon_after_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0):
        reader.fail(f"{BUNDLE_FILE}: abandon_after_minutes must be a positive whole number, got {minutes!r}")
        return None
    return minutes


def _selection_read(reader: _Reader, top: dict) -> dict:
    if "selection" not in top:
        return {}
    reader.problems += selection_problems(where=BUNDLE_FILE, selection=top["selection"])
    return top["selection"] if isinstance(top["selection"], dict) else {}


def _counts_check(reader: _Reader, top: dict, questions: list[QuestionSpec]) -> None:
    correct = sum(question.model_correct for question in questions)
    for name, actual, kind in [
        ("n_correct", correct, "true"),
        ("n_wrong", len(questions) - correct, "false"),
    ]:
        if name not in top:
            continue
        stated = top[name]
        if isinstance(stated, bool) or not isinstance(stated, int) or stated < 0:
            reader.fail(f"{BUNDLE_FILE}: {name} must be a whole number, got {stated!r}")
        elif stated != actual:
            reader.fail(
                f"{BUNDLE_FILE}: {name} is {stated} but {actual} of the {len(questions)} questions "
                f"have model_correct {kind}"
            )


def _conditions_read(reader: _Reader, raw: object) -> list[ConditionSpec]:
    if not isinstance(raw, list) or not raw:
        if raw is not None:
            reader.fail(f"{BUNDLE_FILE}: 'conditions' must be a list of at least one condition")
        return []
    specs = [spec for index, item in enumerate(raw, 1) if (spec := _condition_read(reader, item, index))]
    for key in duplicates(spec.key for spec in specs):
        reader.fail(f"condition key {key!r} is used more than once")
    return specs


def _condition_read(reader: _Reader, item: object, index: int) -> ConditionSpec | None:
    where = entry_name("condition", item, index)
    obj = reader.fields(item, where, CONDITION_FIELDS)
    if obj is None:
        return None
    key = reader.text(obj, "key", where, max_length=50)
    if key and not re.fullmatch(r"[-a-zA-Z0-9_]+", key):
        reader.fail(f"{where}: key may hold only letters, digits, hyphens and underscores")
    examples = obj.get("examples", [])
    if not isinstance(examples, list):
        reader.fail(f"{where}: 'examples' must be a list")
        examples = []
    return ConditionSpec(
        key=key,
        name=reader.text(obj, "name", where),
        intro=reader.text(obj, "intro", where, required=False, max_length=None),
        examples=tuple(_example_read(reader, e, f"{where}, example {n}") for n, e in enumerate(examples, 1)),
        comprehension=comprehension_read(reader, obj, where),
    )


def _example_read(reader: _Reader, item: object, where: str) -> ExampleSpec:
    if isinstance(item, str):
        return ExampleSpec(image=reader.image(item, where), caption="")
    obj = reader.fields(item, where, EXAMPLE_FIELDS) or {}
    image = reader.image(obj["image"], where) if "image" in obj else reader.root
    return ExampleSpec(
        image=image, caption=reader.text(obj, "caption", where, required=False, max_length=300)
    )


def _questions_read(
    reader: _Reader, raw: object, *, classes: list[str], condition_keys: list[str], kind: str = "question"
) -> list[QuestionSpec]:
    """The study's questions, or (``kind`` "practice question") its practice questions, which are optional."""
    field = "questions" if kind == "question" else "practice"
    if not isinstance(raw, list) or (not raw and kind == "question"):
        if raw is not None:
            reader.fail(f"{BUNDLE_FILE}: {field!r} must be a list of at least one question")
        return []
    specs = [
        spec
        for index, item in enumerate(raw, 1)
        if (
            spec := _question_read(
                reader, item, index, classes=classes, condition_keys=condition_keys, kind=kind
            )
        )
    ]
    if kind == "question":
        for key in duplicates(spec.key for spec in specs):
            reader.fail(f"question key {key!r} is used more than once")
    return specs


def _question_read(
    reader: _Reader, item: object, index: int, *, classes: list[str], condition_keys: list[str], kind: str
) -> QuestionSpec | None:
    where = entry_name(kind, item, index)
    obj = reader.fields(item, where, QUESTION_FIELDS)
    if obj is None:
        return None
    prediction = reader.text(obj, "prediction", where, max_length=100)
    labels = reader.strings(obj, "labels", where)
    options = reader.strings(obj, "options", where)
    model_correct = reader.boolean(obj, "model_correct", where)
    if options is not None and labels is not None:
        reader.problems += question_problems(
            where=where,
            options=options,
            labels=labels,
            prediction=prediction,
            model_correct=model_correct,
            classes=classes,
        )
    prediction_set, posteriors = _audit_read(reader, obj, where)
    if options is not None and labels is not None:
        reader.problems += question_audit_problems(
            where=where,
            prediction_set=prediction_set,
            posteriors=posteriors,
            prediction=prediction,
            labels=labels,
            model_correct=model_correct,
            classes=classes,
        )
    return QuestionSpec(
        key=reader.text(obj, "key", where, max_length=100),
        image=reader.image(obj["image"], f"{where}, image") if "image" in obj else reader.root,
        labels=tuple(labels or ()),
        prediction=prediction,
        model_correct=bool(model_correct),
        options=tuple(options or ()),
        explanations=reader.explanations(obj, where, condition_keys=condition_keys),
        prediction_set=tuple(prediction_set or ()),
        posteriors=dict(posteriors or {}),
    )


def _audit_read(reader: _Reader, obj: dict, where: str) -> tuple[list[str] | None, dict | None]:
    prediction_set = reader.strings(obj, "prediction_set", where)
    posteriors = obj.get("posteriors")
    if posteriors is not None and not isinstance(posteriors, dict):
        reader.fail(f"{where}: 'posteriors' must map class names to numbers")
        posteriors = None
    return prediction_set, posteriors


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
