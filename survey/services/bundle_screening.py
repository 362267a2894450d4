"""Reading a bundle's screening and training parts: comprehension questions, attention checks and the
class names participants see. The format is documented in survey.services.bundle_spec."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from survey.constants import CANT_TELL
from survey.services.bundle_spec import (
    ATTENTION_FIELDS,
    ATTENTION_KINDS,
    BUNDLE_FILE,
    AttentionSpec,
    ComprehensionSpec,
)
from survey.services.studies import comprehension_problems, extra_question_problems

if TYPE_CHECKING:
    from survey.services.bundle_validation import _Reader


def entry_name(kind: str, item: object, index: int) -> str:
    """How problems name a list's entry: by its key when it has one, else by its place."""
    key = item.get("key") if isinstance(item, dict) else None
    return f"{kind} {key}" if isinstance(key, str) and key else f"{kind} #{index}"


def duplicates(values: Iterable[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def comprehension_read(reader: _Reader, obj: dict, where: str) -> tuple[ComprehensionSpec, ...]:
    raw = obj.get("comprehension", [])
    problems = comprehension_problems(where=where, items=raw)
    if problems:
        reader.problems += problems
        return ()
    return tuple(ComprehensionSpec(item["prompt"], tuple(item["choices"]), item["answer"]) for item in raw)


def class_names_read(reader: _Reader, top: dict, *, classes: list[str]) -> dict[str, str]:
    raw = top.get("class_names", {})
    if not isinstance(raw, dict) or not all(isinstance(v, str) and v.strip() for v in raw.values()):
        reader.fail(f"{BUNDLE_FILE}: 'class_names' must map classes to non-empty display names")
        return {}
    for name, shown in raw.items():
        if name not in classes:
            reader.fail(f"{BUNDLE_FILE}: class_names names {name!r}, which is not one of the study's classes")
        if len(shown) > 100:
            reader.fail(f"{BUNDLE_FILE}: the display name of {name!r} is longer than 100 characters")
    return raw


def attention_read(
    reader: _Reader, raw: object, *, classes: list[str], condition_keys: list[str], n_questions: int
) -> list[AttentionSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.fail(f"{BUNDLE_FILE}: 'attention' must be a list of attention checks")
        return []
    checks = [
        _check_read(
            reader, item, index, classes=classes, condition_keys=condition_keys, n_questions=n_questions
        )
        for index, item in enumerate(raw, 1)
    ]
    return [check for check in checks if check is not None]


def _check_read(
    reader: _Reader,
    item: object,
    index: int,
    *,
    classes: list[str],
    condition_keys: list[str],
    n_questions: int,
) -> AttentionSpec | None:
    where = entry_name("attention check", item, index)
    obj = reader.fields(item, where, ATTENTION_FIELDS)
    if obj is None:
        return None
    kind = reader.text(obj, "kind", where, max_length=20)
    if kind and kind not in ATTENTION_KINDS:
        reader.fail(f"{where}: kind {kind!r} must be one of {', '.join(ATTENTION_KINDS)}")
    options = reader.strings(obj, "options", where) or []
    answer = reader.text(obj, "answer", where, max_length=100)
    reader.problems += extra_question_problems(
        where=where, role="attention", kind=kind, options=options, answer=answer, classes=classes
    )
    if kind == "image" and answer == CANT_TELL:
        reader.fail(f"{where}: an image check's answer is the class it shows, not {CANT_TELL!r}")
    position = reader.whole_number(obj, "position", where, minimum=1)
    if position is not None and n_questions and position > n_questions:
        reader.fail(f"{where}: position {position} is past the study's {n_questions} questions")
    labels = reader.strings(obj, "labels", where) or []
    prediction = reader.text(obj, "prediction", where, required=False, max_length=100)
    for name in [*labels, *([prediction] if prediction else [])]:
        if name not in classes:
            reader.fail(f"{where}: {name!r} is not one of the study's classes")
    return AttentionSpec(
        key=reader.text(obj, "key", where, max_length=100),
        kind=kind,
        image=reader.image(obj["image"], f"{where}, image") if "image" in obj else reader.root,
        options=tuple(options),
        answer=answer,
        explanations=reader.explanations(obj, where, condition_keys=condition_keys),
        instruction=reader.text(obj, "instruction", where, required=False, max_length=300),
        position=position,
        labels=tuple(labels),
        prediction=prediction,
    )
