"""A study and its content, kept in each server process's memory: what every participant request reads.

The study's row, its conditions and their examples, the questions, the attention checks and practice
questions and their explanations do not change while a study runs, so a process reads them once per
study and version, not on every request. ``Study.content_version`` changes with any saved or deleted
row of them (the signal receivers in survey.signals), and the participant's row, read by every request
anyway, brings the study's current version with it: a process never serves a study older than the
version it was asked for. The study's counters (assignment_counter) are written with UPDATE, never
read from here.

The instances kept are shared by the requests of a process: read them, never change them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

from survey.models import (
    Condition,
    ConditionExample,
    Explanation,
    ExtraExplanation,
    ExtraQuestion,
    Question,
    Study,
)

STUDIES_KEPT = 64  # per process: a few kilobytes each


@dataclass(frozen=True)
class StudyContent:
    study: Study
    conditions: dict[int, Condition]
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
    return study_content_at(study_id=study.pk, version=study.content_version)


def study_content_at(*, study_id: int, version: uuid.UUID) -> StudyContent:
    """The content of the study ``study_id`` as of ``version`` (or newer)."""
    return _content(study_id, version)


def condition_examples(*, study: Study, condition_id: int) -> list[ConditionExample]:
    """The examples of how to read the condition's explanation, in their order."""
    return study_content(study).examples.get(condition_id, [])


# ``version`` is not read: it is the cache's key.
@lru_cache(maxsize=STUDIES_KEPT)
def _content(study_id: int, version: uuid.UUID) -> StudyContent:
    explanations = Explanation.objects.filter(question__study_id=study_id)
    extra_explanations = ExtraExplanation.objects.filter(question__study_id=study_id)
    examples: dict[int, list[ConditionExample]] = {}
    for example in ConditionExample.objects.filter(condition__study_id=study_id).order_by("order", "id"):
        examples.setdefault(example.condition_id, []).append(example)
    return StudyContent(
        study=Study.objects.get(pk=study_id),
        conditions={condition.pk: condition for condition in Condition.objects.filter(study_id=study_id)},
        questions={question.pk: question for question in Question.objects.filter(study_id=study_id)},
        extra_questions={
            question.pk: question
            for question in ExtraQuestion.objects.filter(study_id=study_id).order_by("order", "id")
        },
        explanations={(row.question_id, row.condition_id): row for row in explanations},
        extra_explanations={(row.question_id, row.condition_id): row for row in extra_explanations},
        examples=examples,
    )
