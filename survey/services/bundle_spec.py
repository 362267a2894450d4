"""The study bundle: its format, its types, and the one writer of study.json.

A bundle is a folder holding study.json and the images it names, by paths relative to the folder.
study.json is one JSON object:

- required: ``slug``, ``name``, ``classes`` (every class label the study may show), ``conditions`` and
  ``questions``;
- optional: ``description`` (the landing page's text), ``completion_code``, ``completion_redirect_url``,
  ``unique_completion_codes`` (true: each participant gets a code of their own), ``assignment_policy``
  (round_robin or balanced_completion), ``abandon_after_minutes``, ``expected_minutes`` (the landing
  page's time estimate), ``class_names`` ({class: how participants see it}), ``n_correct`` and
  ``n_wrong`` (how many questions the model got right and wrong, checked against the questions'
  ``model_correct``), ``saliency`` (what made the explanation masks: gradcam or gradcam++), ``selection``
  (how the questions were picked: the rule, split, seed, difficult policy and counts), ``practice``
  (questions shaped like the study's, answered after the introduction with feedback and never counted),
  ``attention`` (attention checks placed among the questions) and ``attention_allowance`` (how many a
  participant may fail and still be analysed; 0 by default).

A condition is ``{key, name, intro?, examples?, comprehension?}``; an example is a path or ``{image,
caption?}``; a comprehension question is ``{prompt, choices (two or more), answer (one of the choices)}``,
asked after the introduction until answered right.
A question is ``{key, image, labels, prediction, model_correct, options (four classes, the prediction
among them), explanations ({condition key: path}, one per condition)}``, with the optional audit fields
``prediction_set`` (the classes with posterior > 0.5, highest first) and ``posteriors`` ({class: posterior}).
The platform adds "I just can't tell" to the options itself.
An attention check is ``{key, kind, image, options, answer, explanations, instruction?, position?, labels?,
prediction?}``: kind ``instructed`` tells the participant which option to choose (``instruction``, by default
"For this question, please choose “<answer>”."; its answer may be ``cant_tell``), kind ``image`` shows an
image whose class is unmistakable, its answer that class. ``position`` puts it after that many questions;
without one, each participant meets it at a random place away from the start and the end.

``BundleSpec`` and its parts type the format both ways: ``bundle_validate`` (survey.services.
bundle_validation) reads a folder into a spec whose image paths are absolute, and ``bundle_json_write``
writes a spec's study.json with its image paths made relative to the folder. Every writer (rendering,
the demo, export and the tests) builds a spec and hands it to ``bundle_json_write``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUNDLE_FILE = "study.json"
# (required, optional) field names of each object of the format.
STUDY_FIELDS = ({"slug", "name", "classes", "conditions", "questions"}, {
    "description", "completion_code", "completion_redirect_url", "assignment_policy", "abandon_after_minutes",
    "n_correct", "n_wrong", "selection", "saliency", "unique_completion_codes", "expected_minutes",
    "class_names", "practice", "attention", "attention_allowance",
})  # fmt: skip
CONDITION_FIELDS = ({"key", "name"}, {"intro", "examples", "comprehension"})
EXAMPLE_FIELDS = ({"image"}, {"caption"})
QUESTION_FIELDS = (
    {"key", "image", "labels", "prediction", "model_correct", "options", "explanations"},
    {"prediction_set", "posteriors"},
)
ATTENTION_FIELDS = (
    {"key", "kind", "image", "options", "answer", "explanations"},
    {"instruction", "position", "labels", "prediction"},
)
ATTENTION_KINDS = ("instructed", "image")


@dataclass(frozen=True)
class ExampleSpec:
    image: Path
    caption: str = ""


@dataclass(frozen=True)
class ComprehensionSpec:
    prompt: str
    choices: tuple[str, ...]
    answer: str  # one of the choices


@dataclass(frozen=True)
class ConditionSpec:
    key: str
    name: str
    intro: str = ""
    examples: tuple[ExampleSpec, ...] = ()
    comprehension: tuple[ComprehensionSpec, ...] = ()  # asked after the introduction until answered right


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    image: Path
    labels: tuple[str, ...]
    prediction: str
    model_correct: bool
    options: tuple[str, ...]
    explanations: Mapping[str, Path]  # condition key -> image
    prediction_set: tuple[str, ...] = ()  # audit: classes with posterior > 0.5, highest first
    posteriors: Mapping[str, float] = field(default_factory=dict)  # audit: every class's posterior


@dataclass(frozen=True)
class AttentionSpec:
    key: str
    kind: str  # "instructed" (the text says which option to choose) or "image" (an unmistakable class)
    image: Path
    options: tuple[str, ...]  # four classes; the platform adds "I just can't tell"
    answer: str  # the expected option: one of the options, or "cant_tell" for an instructed response
    explanations: Mapping[str, Path]  # condition key -> image
    instruction: str = ""  # an instructed response's line; empty: the platform writes one
    position: int | None = None  # after this many questions; None: at random, per participant
    labels: tuple[str, ...] = ()
    prediction: str = ""


@dataclass(frozen=True)
class BundleSpec:
    directory: Path
    slug: str
    name: str
    classes: tuple[str, ...]
    conditions: tuple[ConditionSpec, ...]
    questions: tuple[QuestionSpec, ...]
    description: str = ""
    completion_code: str = ""  # empty: one is generated on import
    completion_redirect_url: str = ""
    assignment_policy: str = "round_robin"
    abandon_after_minutes: int | None = None
    selection: Mapping[str, Any] = field(default_factory=dict)  # how the questions were picked
    saliency: str = ""  # what made the explanation masks, when known
    unique_completion_codes: bool = False
    expected_minutes: int | None = None
    class_names: Mapping[str, str] = field(default_factory=dict)  # class -> how participants see it
    practice: tuple[QuestionSpec, ...] = ()  # with feedback after each, never counted
    attention: tuple[AttentionSpec, ...] = ()
    attention_allowance: int = 0  # failures a participant may have and still be analysed


def bundle_json_write(*, spec: BundleSpec) -> Path:
    """Write ``spec`` as study.json in its folder, atomically; returns the folder.

    Image paths are written relative to the folder, and the images must already be there.
    """
    directory = Path(spec.directory)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{BUNDLE_FILE}.partial"
    text = json.dumps(bundle_json(spec=spec), indent=2, ensure_ascii=False) + "\n"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, directory / BUNDLE_FILE)
    return directory


def bundle_json(*, spec: BundleSpec) -> dict[str, Any]:
    """The study.json document of ``spec``; optional fields appear only when they say something."""
    data: dict[str, Any] = {"slug": spec.slug, "name": spec.name}
    optional = {
        "description": spec.description,
        "completion_code": spec.completion_code,
        "completion_redirect_url": spec.completion_redirect_url,
        "unique_completion_codes": spec.unique_completion_codes,
        "abandon_after_minutes": spec.abandon_after_minutes,
        "expected_minutes": spec.expected_minutes,
        "saliency": spec.saliency,
        "selection": dict(spec.selection),
    }
    data |= {name: value for name, value in optional.items() if value}
    data["assignment_policy"] = spec.assignment_policy
    data["classes"] = list(spec.classes)
    if spec.class_names:
        data["class_names"] = dict(spec.class_names)
    data["n_correct"] = sum(question.model_correct for question in spec.questions)
    data["n_wrong"] = len(spec.questions) - data["n_correct"]
    data["conditions"] = [_condition_json(condition, spec.directory) for condition in spec.conditions]
    data["questions"] = [_question_json(question, spec.directory) for question in spec.questions]
    if spec.practice:
        data["practice"] = [_question_json(question, spec.directory) for question in spec.practice]
    if spec.attention:
        data["attention"] = [_attention_json(check, spec.directory) for check in spec.attention]
        data["attention_allowance"] = spec.attention_allowance
    return data


def _condition_json(condition: ConditionSpec, root: Path) -> dict[str, Any]:
    examples = [
        {"image": _relative(e.image, root), "caption": e.caption} if e.caption else _relative(e.image, root)
        for e in condition.examples
    ]
    data = {"key": condition.key, "name": condition.name, "intro": condition.intro, "examples": examples}
    if condition.comprehension:
        data["comprehension"] = [
            {"prompt": item.prompt, "choices": list(item.choices), "answer": item.answer}
            for item in condition.comprehension
        ]
    return data


def _question_json(question: QuestionSpec, root: Path) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": question.key,
        "image": _relative(question.image, root),
        "labels": list(question.labels),
        "prediction": question.prediction,
        "model_correct": question.model_correct,
        "options": list(question.options),
        "explanations": {key: _relative(path, root) for key, path in question.explanations.items()},
    }
    if question.prediction_set:
        data["prediction_set"] = list(question.prediction_set)
    if question.posteriors:
        data["posteriors"] = dict(question.posteriors)
    return data


def _attention_json(check: AttentionSpec, root: Path) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": check.key,
        "kind": check.kind,
        "image": _relative(check.image, root),
        "options": list(check.options),
        "answer": check.answer,
        "explanations": {key: _relative(path, root) for key, path in check.explanations.items()},
    }
    optional = {
        "instruction": check.instruction,
        "position": check.position,
        "labels": list(check.labels),
        "prediction": check.prediction,
    }
    return data | {name: value for name, value in optional.items() if value}


def _relative(path: Path, root: Path) -> str:
    path = Path(path)
    return (path.resolve().relative_to(Path(root).resolve()) if path.is_absolute() else path).as_posix()
