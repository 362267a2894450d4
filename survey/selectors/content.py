"""A study's content, kept in each server process's memory: what every participant request reads.

The conditions' examples, the questions, the attention checks and practice questions and their
explanations never change while a study runs, so a process reads them once per study and version, not
on every request. ``Study.content_version`` changes with any saved or deleted row of them (the signal
receivers in survey.signals), and the participant's row, read by every request anyway, brings the
study's current version with it: a process never serves content older than what it was asked for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

from survey.models import ConditionExample, Explanation, ExtraExplanation, ExtraQuestion, Question, Study

STUDIES_KEPT = 64  # per process: a few kilobytes each


@dataclass(frozen=True)
class StudyContent:
    questions: dict[int, Question]
    extra_questions: dict[int, ExtraQuestion]  # practice questions and attention checks
    explanations: dict[tuple[int, int], Explanation]  # by (question id, condition id)
    extra_explanations: dict[tuple[int, int], ExtraExplanation]  # by (extra question id, condition id)
    examples: dict[int, list[ConditionExample]]  # by condition id, in their order

    def practice(self) -> list[ExtraQuestion]:
        """The practice questions, in the study's order."""
        role = ExtraQuestion.Role.PRACTICE
        return [question for question in self.extra_questions.values() if question.role == role]


def study_content(study: Study) -> StudyContent:
    """The study's content as of ``study.content_version`` (or newer), from memory after the first call."""
    return _content(study.pk, study.content_version)


def study_content_forget() -> None:
    """Drop every study kept in this process (tests that change content behind the signals' back)."""
    _content.cache_clear()


@lru_cache(maxsize=STUDIES_KEPT)
def _content(study_id: int, version: uuid.UUID) -> StudyContent:  # noqa: ARG001: the version keys the cache
    explanations = Explanation.objects.filter(question__study_id=study_id)
    extra_explanations = ExtraExplanation.objects.filter(question__study_id=study_id)
    examples: dict[int, list[ConditionExample]] = {}
    for example in ConditionExample.objects.filter(condition__study_id=study_id).order_by("order", "id"):
        examples.setdefault(example.condition_id, []).append(example)
    return StudyContent(
        questions={question.pk: question for question in Question.objects.filter(study_id=study_id)},
        extra_questions={
            question.pk: question
            for question in ExtraQuestion.objects.filter(study_id=study_id).order_by("order", "id")
        },
        explanations={(row.question_id, row.condition_id): row for row in explanations},
        extra_explanations={(row.question_id, row.condition_id): row for row in extra_explanations},
        examples=examples,
    )
