"""Opening and closing studies, and the one readiness check every way of opening goes through."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models.fields.files import FieldFile

from core.errors import ApplicationError
from survey.constants import OPTIONS_PER_QUESTION
from survey.models import CANT_TELL, CANT_TELL_LABEL, ExtraQuestion, Question, Study


class StudyNotReady(ApplicationError):
    """The study cannot open; `problems` says, in plain words, what is missing."""

    status = 409
    title = "The study cannot open yet"

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems), extra={"problems": list(problems)})

    @property
    def problems(self) -> list[str]:
        return self.extra["problems"]


def question_problems(
    *,
    where: str,
    options: Sequence[object],
    labels: Sequence[object],
    prediction: str,
    model_correct: bool | None,
    classes: Sequence[str],
) -> list[str]:
    """What is wrong with one question's answer key. Shared by the admin, bundles and opening."""
    problems = _option_problems(where=where, options=options, prediction=prediction, classes=classes)
    if not labels:
        problems.append(f"{where}: needs at least one label")
    problems += [
        f"{where}: label {label!r} is not one of the study's classes"
        for label in labels
        if label not in classes
    ]
    if model_correct is not None and model_correct != (prediction in labels):
        problems.append(
            f"{where}: model_correct is {str(model_correct).lower()} but the prediction {prediction!r} is "
            f"{'' if prediction in labels else 'not '}among the labels {list(labels)}; they must agree"
        )
    return problems


def _option_problems(
    *, where: str, options: Sequence[object], prediction: str, classes: Sequence[str]
) -> list[str]:
    # Four distinct known classes, the prediction among them; the platform adds "I just can't tell".
    problems = []
    if any(option in {CANT_TELL, CANT_TELL_LABEL} for option in options):
        problems.append(f"{where}: remove {CANT_TELL_LABEL!r} from the options, the platform adds it itself")
    if len(options) != OPTIONS_PER_QUESTION:
        problems.append(f"{where}: needs exactly {OPTIONS_PER_QUESTION} options, has {len(options)}")
    duplicates = sorted({str(option) for option in options if options.count(option) > 1})
    if duplicates:
        problems.append(f"{where}: option {', '.join(duplicates)} appears more than once")
    unknown = [str(o) for o in options if o not in classes and o not in {CANT_TELL, CANT_TELL_LABEL}]
    if unknown:
        problems.append(f"{where}: option {', '.join(unknown)} is not one of the study's classes")
    if prediction not in options:
        problems.append(f"{where}: the prediction {prediction!r} is not among the options")
    return problems


def comprehension_problems(*, where: str, items: object) -> list[str]:
    """What is wrong with a condition's comprehension questions. Shared by the admin, bundles and opening."""
    if not isinstance(items, list):
        return [f"{where}: 'comprehension' must be a list of questions"]
    problems = []
    for number, item in enumerate(items, 1):
        here = f"{where}, comprehension question {number}"
        if not isinstance(item, dict) or set(item) - {"prompt", "choices", "answer"}:
            problems.append(f"{here}: must be an object with prompt, choices and answer")
            continue
        prompt, choices, answer = item.get("prompt"), item.get("choices"), item.get("answer")
        if not isinstance(prompt, str) or not prompt.strip():
            problems.append(f"{here}: needs a prompt")
        if (
            not isinstance(choices, list)
            or len(choices) < 2
            or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            problems.append(f"{here}: needs at least two choices, each a non-empty string")
        elif len(set(choices)) != len(choices):
            problems.append(f"{here}: a choice appears more than once")
        elif answer not in choices:
            problems.append(f"{here}: the answer {answer!r} is not one of its choices")
    return problems


def extra_question_problems(
    *, where: str, role: str, kind: str, options: Sequence[object], answer: str, classes: Sequence[str]
) -> list[str]:
    """What is wrong with a practice question's or an attention check's options and expected answer.

    The expected answer is one of the four classes; an instructed response may also ask for "can't tell".
    """
    problems = _option_problems(
        where=where, options=options, prediction=str(next(iter(options), "")), classes=classes
    )
    instructed = role == ExtraQuestion.Role.ATTENTION and kind == ExtraQuestion.Kind.INSTRUCTED
    allowed = {*options, CANT_TELL} if instructed else set(options)
    if answer not in allowed:
        problems.append(f"{where}: the expected answer {answer!r} is not one of its options")
    return problems


def study_readiness_problems(*, study: Study) -> list[str]:
    """Everything that stops the study from opening; an empty list means it may open."""
    if study.pk is None:
        return ["the study has no conditions", "the study has no questions"]
    conditions = list(study.conditions.all())
    condition_keys = {c.pk: c.key for c in conditions}
    questions = list(study.questions.prefetch_related("explanations"))
    extras = list(study.extra_questions.prefetch_related("explanations"))
    problems = []
    if not conditions:
        problems.append("the study has no conditions")
    if not questions:
        problems.append("the study has no questions")
    if not study.completion_code and not study.completion_redirect_url and not study.unique_completion_codes:
        problems.append("the study needs a completion code or a completion redirect URL")
    for condition in conditions:
        problems += comprehension_problems(where=f"condition {condition.key}", items=condition.comprehension)
    for question in questions:
        problems += _images_problems(
            row=question, where=f"question {question.key}", condition_keys=condition_keys
        )
        problems += question_problems(
            where=f"question {question.key}",
            options=question.options,
            labels=question.labels,
            prediction=question.prediction,
            model_correct=question.model_correct,
            classes=study.classes,
        )
    for extra in extras:
        where = f"{extra.role} question {extra.key}"
        problems += _images_problems(row=extra, where=where, condition_keys=condition_keys)
        problems += extra_question_problems(
            where=where, role=extra.role, kind=extra.kind, options=extra.options, answer=extra.answer,
            classes=study.classes,
        )  # fmt: skip
    return problems


def _images_problems(
    *, row: Question | ExtraQuestion, where: str, condition_keys: dict[int, str]
) -> list[str]:
    problems = []
    if not _file_present(row.image):
        problems.append(f"{where} has no input image")
    explained = {e.condition_id: e for e in row.explanations.all()}
    for condition_id, key in condition_keys.items():
        explanation = explained.get(condition_id)
        if explanation is None or not _file_present(explanation.image):
            problems.append(f"{where} has no explanation for condition {key}")
    return problems


def _file_present(field_file: FieldFile) -> bool:
    # A row that names a file nobody can serve is as missing as no row at all.
    return bool(field_file.name) and field_file.storage.exists(field_file.name)


class StudyNotPilot(ApplicationError):
    status = 409
    title = "The study cannot be piloted"


@transaction.atomic
def study_open(*, study: Study) -> None:
    """Open the study to participants, or raise StudyNotReady naming everything that is missing.

    Opening after a pilot starts the assignment turn afresh, so real participants are balanced by
    themselves; the pilot's participants stay recorded, apart.
    """
    locked = Study.objects.select_for_update().filter(pk=study.pk).first()
    problems = study_readiness_problems(study=study)
    if problems:
        raise StudyNotReady(problems)
    if locked is not None and locked.status == Study.Status.PILOT:
        Study.objects.filter(pk=study.pk).update(assignment_counter=0)
    _status_set(study=study, status=Study.Status.OPEN)


@transaction.atomic
def study_pilot(*, study: Study) -> None:
    """Let pilot participants in before the study opens: they are recorded and kept apart.

    Only a study that real participants have not started yet can be piloted.
    """
    Study.objects.select_for_update().filter(pk=study.pk).first()
    if study.participants.filter(is_pilot=False).exists():
        raise StudyNotPilot(f"{study.slug} already has real participants; it cannot go back to a pilot.")
    problems = study_readiness_problems(study=study)
    if problems:
        raise StudyNotReady(problems)
    _status_set(study=study, status=Study.Status.PILOT)


@transaction.atomic
def study_close(*, study: Study) -> None:
    """Stop new participants from starting."""
    _status_set(study=study, status=Study.Status.CLOSED)


def _status_set(*, study: Study, status: str) -> None:
    study.status = status
    study.save(update_fields=["status"])
