"""Opening and closing studies, and the one readiness check every way of opening goes through."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models.fields.files import FieldFile

from core.errors import ApplicationError
from survey.constants import OPTIONS_PER_QUESTION
from survey.models import CANT_TELL, CANT_TELL_LABEL, Question, Study


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


def study_readiness_problems(*, study: Study) -> list[str]:
    """Everything that stops the study from opening; an empty list means it may open."""
    if study.pk is None:
        return ["the study has no conditions", "the study has no questions"]
    conditions = list(study.conditions.all())
    questions = list(study.questions.prefetch_related("explanations"))
    problems = []
    if not conditions:
        problems.append("the study has no conditions")
    if not questions:
        problems.append("the study has no questions")
    if not study.completion_code and not study.completion_redirect_url:
        problems.append("the study needs a completion code or a completion redirect URL")
    for question in questions:
        problems += _question_problems(question=question, condition_keys={c.pk: c.key for c in conditions})
        problems += question_problems(
            where=f"question {question.key}",
            options=question.options,
            labels=question.labels,
            prediction=question.prediction,
            model_correct=question.model_correct,
            classes=study.classes,
        )
    return problems


def _question_problems(*, question: Question, condition_keys: dict[int, str]) -> list[str]:
    problems = []
    if not _file_present(question.image):
        problems.append(f"question {question.key} has no input image")
    explained = {e.condition_id: e for e in question.explanations.all()}
    for condition_id, key in condition_keys.items():
        explanation = explained.get(condition_id)
        if explanation is None or not _file_present(explanation.image):
            problems.append(f"question {question.key} has no explanation for condition {key}")
    return problems


def _file_present(field_file: FieldFile) -> bool:
    # A row that names a file nobody can serve is as missing as no row at all.
    return bool(field_file.name) and field_file.storage.exists(field_file.name)


@transaction.atomic
def study_open(*, study: Study) -> None:
    """Open the study to participants, or raise StudyNotReady naming everything that is missing."""
    Study.objects.select_for_update().filter(pk=study.pk).first()
    problems = study_readiness_problems(study=study)
    if problems:
        raise StudyNotReady(problems)
    _status_set(study=study, status=Study.Status.OPEN)


@transaction.atomic
def study_close(*, study: Study) -> None:
    """Stop new participants from starting."""
    _status_set(study=study, status=Study.Status.CLOSED)


def _status_set(*, study: Study, status: str) -> None:
    study.status = status
    study.save(update_fields=["status"])
