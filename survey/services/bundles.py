"""Study bundles: a folder holding study.json and its images, the way a study travels between machines.

Validation lives in survey.services.bundle_validation; this module imports and exports.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
import shutil
import string
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from PIL import Image

from survey.constants import CANT_TELL, CANT_TELL_LABEL
from survey.models import (
    Condition,
    ConditionExample,
    Explanation,
    ExtraExplanation,
    ExtraQuestion,
    Question,
    Study,
)
from survey.selectors.studies import study_has_participants
from survey.services.bundle_spec import (
    AttentionSpec,
    BundleSpec,
    ComprehensionSpec,
    ConditionSpec,
    ExampleSpec,
    QuestionSpec,
    bundle_json_write,
)
from survey.services.bundle_validation import BundleError, bundle_validate
from survey.services.studies import study_open

__all__ = [
    "BundleError",
    "BundleSpec",
    "bundle_validate",
    "study_duplicate",
    "study_export_bundle",
    "study_import_bundle",
]


# Importing


@transaction.atomic
def study_import_bundle(*, directory: Path, open_study: bool = False, replace: bool = False) -> Study:
    """Validate the bundle, then create the study with copies of its images in media storage.

    With `replace`, a study with the same slug and no participants is deleted first. On any failure
    the database is rolled back and the images already copied are deleted again.
    """
    spec = bundle_validate(directory=directory, replace=replace)
    stored: list[FieldFile] = []
    try:
        if replace:
            _study_replace(slug=spec.slug)
        study = _study_create(spec=spec, stored=stored)
        if open_study:
            study_open(study=study)
    except BaseException:
        _files_delete(stored)
        raise
    return study


def _study_replace(*, slug: str) -> None:
    existing = Study.objects.select_for_update().filter(slug=slug).first()
    if existing is None:
        return
    # Checked again under the lock: a participant may have started since validation.
    if study_has_participants(study=existing):
        raise BundleError([f"the study {slug!r} already has participants; it cannot be replaced"])
    files = _study_files(study=existing)
    existing.delete()
    transaction.on_commit(lambda: _files_delete(files))


def _files_delete(files: Iterable[FieldFile]) -> None:
    for field_file in files:
        field_file.storage.delete(field_file.name)


def _study_files(*, study: Study) -> list[FieldFile]:
    examples = ConditionExample.objects.filter(condition__study=study)
    explanations = Explanation.objects.filter(question__study=study)
    extra_explanations = ExtraExplanation.objects.filter(question__study=study)
    return [
        *(row.image for row in study.questions.all()),
        *(row.image for row in explanations),
        *(row.image for row in examples),
        *(row.image for row in study.extra_questions.all()),
        *(row.image for row in extra_explanations),
    ]


def _study_create(*, spec: BundleSpec, stored: list[FieldFile]) -> Study:
    study = Study.objects.create(
        slug=spec.slug,
        name=spec.name,
        description=spec.description,
        classes=list(spec.classes),
        completion_code=spec.completion_code or _completion_code_new(),
        completion_redirect_url=spec.completion_redirect_url,
        assignment_policy=spec.assignment_policy,
        abandon_after_minutes=spec.abandon_after_minutes,
        selection=dict(spec.selection),
        saliency=spec.saliency,
        unique_completion_codes=spec.unique_completion_codes,
        expected_minutes=spec.expected_minutes,
        class_names=dict(spec.class_names),
        attention_allowance=spec.attention_allowance,
    )
    conditions = {
        condition.key: _condition_create(study=study, spec=condition, order=order, stored=stored)
        for order, condition in enumerate(spec.conditions)
    }
    for order, question in enumerate(spec.questions):
        _question_create(study=study, spec=question, order=order, conditions=conditions, stored=stored)
    for order, question in enumerate(spec.practice):
        _practice_create(study=study, spec=question, order=order, conditions=conditions, stored=stored)
    for order, check in enumerate(spec.attention):
        _attention_create(study=study, spec=check, order=order, conditions=conditions, stored=stored)
    return study


def _completion_code_new() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))


def _condition_create(*, study: Study, spec: ConditionSpec, order: int, stored: list[FieldFile]) -> Condition:
    comprehension = [
        {"prompt": item.prompt, "choices": list(item.choices), "answer": item.answer}
        for item in spec.comprehension
    ]
    condition = Condition.objects.create(
        study=study, key=spec.key, name=spec.name, intro=spec.intro, comprehension=comprehension, order=order
    )
    for number, example in enumerate(spec.examples):
        row = ConditionExample(condition=condition, caption=example.caption, order=number)
        _image_store(row, source=example.image, stored=stored)
        row.save()
    return condition


def _question_create(
    *, study: Study, spec: QuestionSpec, order: int, conditions: dict[str, Condition], stored: list[FieldFile]
) -> None:
    question = Question(
        study=study,
        key=spec.key,
        labels=list(spec.labels),
        prediction=spec.prediction,
        model_correct=spec.model_correct,
        options=list(spec.options),
        prediction_set=list(spec.prediction_set),
        posteriors=dict(spec.posteriors),
        order=order,
    )
    _image_store(question, source=spec.image, stored=stored)
    question.save()
    for key, source in spec.explanations.items():
        explanation = Explanation(question=question, condition=conditions[key])
        _image_store(explanation, source=source, stored=stored)
        explanation.save()


def _practice_create(
    *, study: Study, spec: QuestionSpec, order: int, conditions: dict[str, Condition], stored: list[FieldFile]
) -> None:
    question = ExtraQuestion(
        study=study,
        role=ExtraQuestion.Role.PRACTICE,
        key=spec.key,
        labels=list(spec.labels),
        prediction=spec.prediction,
        options=list(spec.options),
        answer=spec.prediction,
        order=order,
    )
    _extra_store(
        question, explanations=spec.explanations, source=spec.image, conditions=conditions, stored=stored
    )


def _attention_create(
    *,
    study: Study,
    spec: AttentionSpec,
    order: int,
    conditions: dict[str, Condition],
    stored: list[FieldFile],
) -> None:
    check = ExtraQuestion(
        study=study,
        role=ExtraQuestion.Role.ATTENTION,
        kind=spec.kind,
        key=spec.key,
        labels=list(spec.labels),
        prediction=spec.prediction,
        options=list(spec.options),
        answer=spec.answer,
        instruction=spec.instruction or _instruction(study=study, kind=spec.kind, answer=spec.answer),
        position=spec.position,
        order=order,
    )
    _extra_store(
        check, explanations=spec.explanations, source=spec.image, conditions=conditions, stored=stored
    )


def _instruction(*, study: Study, kind: str, answer: str) -> str:
    if kind != ExtraQuestion.Kind.INSTRUCTED:
        return ""
    label = CANT_TELL_LABEL if answer == CANT_TELL else study.class_label(answer)
    return f"For this question, please choose \u201c{label}\u201d."


def _extra_store(
    question: ExtraQuestion,
    *,
    explanations: dict[str, Path],
    source: Path,
    conditions: dict[str, Condition],
    stored: list[FieldFile],
) -> None:
    _image_store(question, source=source, stored=stored)
    question.save()
    for key, path in explanations.items():
        explanation = ExtraExplanation(question=question, condition=conditions[key])
        _image_store(explanation, source=path, stored=stored)
        explanation.save()


def _image_store(row: Model, *, source: Path, stored: list[FieldFile]) -> None:
    """Copy ``source`` into media storage as ``row``'s image, and record its size (the pages scale by it)."""
    # The content hash in the name keeps a name from ever meaning two images: media is served immutable.
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", source.stem)[:40]
    with source.open("rb") as handle:
        row.image.save(f"{stem}-{digest}{source.suffix.lower()}", File(handle), save=False)
    stored.append(row.image)
    if hasattr(row, "image_width"):
        with Image.open(source) as image:
            row.image_width, row.image_height = image.size


# Exporting


def study_export_bundle(*, study: Study, directory: Path) -> Path:
    """Write the study as a bundle into `directory` (new or empty), ready for `import_study`."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BundleError([f"{directory} already exists and is not empty; export into a new folder"])
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=directory.parent))
    try:
        bundle_json_write(spec=_study_spec(study=study, root=staging))
        if directory.exists():
            directory.rmdir()
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def _study_spec(*, study: Study, root: Path) -> BundleSpec:
    """The study as a bundle spec, with copies of its images under ``root``."""
    conditions = list(study.conditions.prefetch_related("examples"))
    questions = list(study.questions.prefetch_related("explanations__condition"))
    extras = list(study.extra_questions.prefetch_related("explanations__condition"))
    practice = [q for q in extras if q.role == ExtraQuestion.Role.PRACTICE]
    attention = [q for q in extras if q.role == ExtraQuestion.Role.ATTENTION]
    return BundleSpec(
        directory=root,
        slug=study.slug,
        name=study.name,
        description=study.description,
        classes=tuple(study.classes),
        completion_code=study.completion_code,
        completion_redirect_url=study.completion_redirect_url,
        assignment_policy=study.assignment_policy,
        abandon_after_minutes=study.abandon_after_minutes,
        selection=study.selection,
        saliency=study.saliency,
        unique_completion_codes=study.unique_completion_codes,
        expected_minutes=study.expected_minutes,
        class_names=dict(study.class_names),
        attention_allowance=study.attention_allowance,
        conditions=tuple(_condition_spec(condition=c, root=root) for c in conditions),
        questions=tuple(_question_spec(question=q, number=n, root=root) for n, q in enumerate(questions)),
        practice=tuple(_practice_spec(question=q, number=n, root=root) for n, q in enumerate(practice)),
        attention=tuple(_attention_spec(check=q, number=n, root=root) for n, q in enumerate(attention)),
    )


def _condition_spec(*, condition: Condition, root: Path) -> ConditionSpec:
    examples = tuple(
        ExampleSpec(
            image=_image_copy(example.image, root=root, stem=f"examples/{condition.key}_{number}"),
            caption=example.caption,
        )
        for number, example in enumerate(condition.examples.all(), 1)
    )
    comprehension = tuple(
        ComprehensionSpec(item["prompt"], tuple(item["choices"]), item["answer"])
        for item in condition.comprehension
    )
    return ConditionSpec(
        key=condition.key,
        name=condition.name,
        intro=condition.intro,
        examples=examples,
        comprehension=comprehension,
    )


def _question_spec(*, question: Question, number: int, root: Path) -> QuestionSpec:
    stem = f"{number:03d}_{re.sub(r'[^A-Za-z0-9_-]+', '_', question.key)[:60]}"
    explanations = {
        e.condition.key: _image_copy(e.image, root=root, stem=f"explanations/{stem}_{e.condition.key}")
        for e in question.explanations.all()
    }
    return QuestionSpec(
        key=question.key,
        image=_image_copy(question.image, root=root, stem=f"images/{stem}"),
        labels=tuple(question.labels),
        prediction=question.prediction,
        model_correct=question.model_correct,
        options=tuple(question.options),
        explanations=dict(sorted(explanations.items())),
        prediction_set=tuple(question.prediction_set),
        posteriors=dict(question.posteriors),
    )


def _extra_images(question: ExtraQuestion, *, stem: str, root: Path) -> tuple[Path, dict[str, Path]]:
    explanations = {
        e.condition.key: _image_copy(e.image, root=root, stem=f"explanations/{stem}_{e.condition.key}")
        for e in question.explanations.all()
    }
    return _image_copy(question.image, root=root, stem=f"images/{stem}"), dict(sorted(explanations.items()))


def _practice_spec(*, question: ExtraQuestion, number: int, root: Path) -> QuestionSpec:
    image, explanations = _extra_images(question, stem=f"practice_{number:02d}", root=root)
    return QuestionSpec(
        key=question.key,
        image=image,
        labels=tuple(question.labels),
        prediction=question.prediction,
        model_correct=question.model_correct,
        options=tuple(question.options),
        explanations=explanations,
    )


def _attention_spec(*, check: ExtraQuestion, number: int, root: Path) -> AttentionSpec:
    image, explanations = _extra_images(check, stem=f"attention_{number:02d}", root=root)
    return AttentionSpec(
        key=check.key,
        kind=check.kind,
        image=image,
        options=tuple(check.options),
        answer=check.answer,
        explanations=explanations,
        instruction=check.instruction,
        position=check.position,
        labels=tuple(check.labels),
        prediction=check.prediction,
    )


def _image_copy(field_file: FieldFile, *, root: Path, stem: str) -> Path:
    relative = stem + (Path(field_file.name).suffix.lower() or ".png")
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not field_file.name or not field_file.storage.exists(field_file.name):
        raise BundleError([f"cannot export {stem}: its image {field_file.name!r} is not in media storage"])
    with field_file.open("rb") as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    return Path(relative)


# Duplicating


def study_duplicate(*, study: Study, slug: str, name: str = "") -> Study:
    """A new draft with the study's questions, images and conditions under ``slug``, and no participants.

    The copy travels as a bundle (the study's spec, written and imported again), so it carries exactly
    what a bundle carries and is validated as any import is. It gets a completion code of its own and no
    completion redirect: each Prolific study has its own completion link, set on the copy.
    """
    with tempfile.TemporaryDirectory(prefix="study-copy-") as scratch:
        spec = _study_spec(study=study, root=Path(scratch))
        copy = dataclasses.replace(
            spec,
            slug=slug,
            name=name or f"{study.name} (copy)",
            completion_code="",
            completion_redirect_url="",
        )
        bundle_json_write(spec=copy)
        return study_import_bundle(directory=Path(scratch))
