"""The comprehension check and the practice feedback, as participants and previews both see them."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from core.errors import ApplicationError
from survey.models import Condition, ExtraExplanation, ExtraQuestion, Study
from survey.selectors.questions import Picture, option_label, picture_of


class ComprehensionIncomplete(ApplicationError):
    """Not every comprehension question was answered, or an answer is not one of its choices."""

    status = 400


@dataclass(frozen=True)
class ComprehensionItem:
    number: int  # 1-based, in the condition's list
    prompt: str
    choices: tuple[str, ...]
    answer: str  # one of the choices


@dataclass(frozen=True)
class Comprehension:
    pending: list[ComprehensionItem]  # not answered right yet, in order
    retry: bool  # some answer was wrong: the explanation is shown again before asking again


@dataclass(frozen=True)
class PracticeFeedback:
    question: ExtraQuestion
    explanation: ExtraExplanation | None
    chosen: str  # the participant's guess, as shown
    prediction: str  # the model's prediction, as shown
    guessed: bool  # the guess was the model's prediction
    labels: list[str]  # what the picture really shows, as shown
    model_correct: bool
    more: bool  # another practice question follows

    @property
    def picture(self) -> Picture:
        return picture_of(self.question)

    @property
    def explanation_picture(self) -> Picture | None:
        return None if self.explanation is None else picture_of(self.explanation)


def comprehension_items(condition: Condition) -> list[ComprehensionItem]:
    return [
        ComprehensionItem(number, item["prompt"], tuple(item["choices"]), item["answer"])
        for number, item in enumerate(condition.comprehension, 1)
    ]


def comprehension_state(*, condition: Condition, right: Collection[int], wrong: int) -> Comprehension:
    """The questions still to answer, given the numbers answered right and how many answers were wrong."""
    pending = [item for item in comprehension_items(condition) if item.number not in right]
    return Comprehension(pending=pending, retry=wrong > 0)


def comprehension_grade(
    *, pending: Sequence[ComprehensionItem], choices: Mapping[int, str]
) -> dict[int, bool]:
    """Whether each pending question was answered right; refuses a missing or unknown answer."""
    missing = [item.number for item in pending if not choices.get(item.number)]
    if missing:
        raise ComprehensionIncomplete("Please answer every question before going on.")
    for item in pending:
        if choices[item.number] not in item.choices:
            raise ComprehensionIncomplete(
                f"{choices[item.number]!r} is not a choice of question {item.number}."
            )
    return {item.number: choices[item.number] == item.answer for item in pending}


def practice_feedback(
    *, question: ExtraQuestion, option: str, condition_id: int, study: Study, more: bool
) -> PracticeFeedback:
    return PracticeFeedback(
        question=question,
        explanation=question.explanations.filter(condition_id=condition_id).first(),
        chosen=option_label(option, study=study),
        prediction=study.class_label(question.prediction),
        guessed=option == question.prediction,
        labels=[study.class_label(label) for label in question.labels],
        model_correct=question.model_correct,
        more=more,
    )
