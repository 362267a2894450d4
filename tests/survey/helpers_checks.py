"""Screening and training for a test study: comprehension questions, practice questions, attention checks."""

from __future__ import annotations

from survey.models import CANT_TELL, ExtraExplanation, ExtraQuestion, Study
from tests.factories import image_file

TASK = {
    "prompt": "What is your task for each picture?",
    "choices": ["Name the object", "Guess what the model predicted"],
    "answer": "Guess what the model predicted",
}
READING = {
    "prompt": "What does the visible part show?",
    "choices": ["Where the model looked", "What it ignored", "Nothing"],
    "answer": "Where the model looked",
}


def comprehension_add(study: Study, *items: dict) -> None:
    """Give every condition the comprehension questions (TASK and READING by default)."""
    study.conditions.update(comprehension=list(items or (TASK, READING)))


def extra_add(
    study: Study,
    *,
    role: str,
    key: str,
    answer: str | None = None,
    kind: str = ExtraQuestion.Kind.QUESTION,
    position: int | None = None,
    model_correct: bool = True,
    instruction: str = "",
) -> ExtraQuestion:
    """A practice question or an attention check with an explanation for every condition of the study."""
    options = ["cat", "dog", "sofa", "chair"]
    prediction = "cat"
    question = ExtraQuestion.objects.create(
        study=study,
        role=role,
        kind=kind,
        key=key,
        image=image_file(f"{key}.png"),
        labels=[prediction] if model_correct else ["dog"],
        prediction=prediction,
        options=options,
        answer=answer or prediction,
        instruction=instruction,
        position=position,
        order=ExtraQuestion.objects.filter(study=study, role=role).count(),
    )
    for condition in study.conditions.all():
        ExtraExplanation.objects.create(
            question=question, condition=condition, image=image_file(f"{key}_{condition.key}.png")
        )
    return question


def practice_add(study: Study, n: int = 2) -> list[ExtraQuestion]:
    """n practice questions: the model right on the first, wrong on the second, and so on."""
    return [
        extra_add(study, role=ExtraQuestion.Role.PRACTICE, key=f"practice{i}", model_correct=i % 2 == 0)
        for i in range(n)
    ]


def instructed_add(study: Study, *, position: int | None = 3, answer: str = CANT_TELL) -> ExtraQuestion:
    return extra_add(
        study,
        role=ExtraQuestion.Role.ATTENTION,
        kind=ExtraQuestion.Kind.INSTRUCTED,
        key=f"instructed{position}",
        answer=answer,
        position=position,
        instruction="For this question, please choose \u201cI just can't tell\u201d.",
    )


def unmistakable_add(study: Study, *, position: int | None = 5) -> ExtraQuestion:
    return extra_add(
        study,
        role=ExtraQuestion.Role.ATTENTION,
        kind=ExtraQuestion.Kind.IMAGE,
        key=f"clear{position}",
        position=position,
    )
