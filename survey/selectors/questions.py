"""A question as a participant (or a staff preview) sees it: images, options, and what to preload.

Study questions, practice questions and attention checks are all shown through ``NextQuestion``, so an
attention check looks like any other question.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from django.db.models.fields.files import FieldFile

from survey.models import (
    CANT_TELL,
    CANT_TELL_LABEL,
    Explanation,
    ExtraExplanation,
    ExtraQuestion,
    Question,
    Study,
)
from survey.selectors.content import StudyContent, study_content
from survey.selectors.sequence import Item, Role

# The largest side, in CSS pixels, an image is shown at on a wide screen (two sit beside the options
# at 1280x800). Smaller images are scaled up by a whole factor and drawn with sharp pixels, not blurred.
PICTURE_BOX = 320
UNKNOWN_SIZE = 224  # an image stored before sizes were recorded: shown in the classifier's square


class Sized(Protocol):
    image: FieldFile
    image_width: int | None
    image_height: int | None


class Option(NamedTuple):
    id: str  # what the participant's answer sends back
    label: str  # what the participant sees


@dataclass(frozen=True)
class Picture:
    url: str
    width: int  # CSS pixels on a wide screen: the native size times a whole factor
    height: int
    crisp: bool  # scaled up: draw the pixels sharp (image-rendering: pixelated)


@dataclass(frozen=True)
class NextQuestion:
    question: Question | ExtraQuestion
    explanation: Explanation | ExtraExplanation | None  # None only if the study lacks one (never when open)
    position: int  # 1-based, among everything the participant is asked
    total: int
    options: list[Option]  # in the participant's order, "I just can't tell" last
    role: Role = Role.QUESTION
    instruction: str = ""  # an instructed-response check's "choose ..." line
    preload: tuple[str, ...] = ()  # the next question's image URLs, fetched while this one is answered

    @property
    def picture(self) -> Picture:
        return picture_of(self.question)

    @property
    def explanation_picture(self) -> Picture | None:
        return None if self.explanation is None else picture_of(self.explanation)


def picture_of(row: Sized) -> Picture:
    width, height = row.image_width, row.image_height
    if not width or not height:
        return Picture(row.image.url, UNKNOWN_SIZE, UNKNOWN_SIZE, crisp=False)
    scale = max(1, min(PICTURE_BOX // width, PICTURE_BOX // height))
    return Picture(row.image.url, width * scale, height * scale, crisp=scale > 1)


def question_option_ids(question: Question | ExtraQuestion) -> set[str]:
    return {*question.options, CANT_TELL}


def question_option_order(question: Question | ExtraQuestion, *, seed: int) -> list[str]:
    """The class options shuffled per participant and question (stable on reload), then "can't tell"."""
    classes = list(question.options)
    random.Random(f"{seed}:{question.pk}").shuffle(classes)
    return [*classes, CANT_TELL]


def question_options(question: Question | ExtraQuestion, *, seed: int, study: Study) -> list[Option]:
    return [
        Option(option, CANT_TELL_LABEL if option == CANT_TELL else study.class_label(option))
        for option in question_option_order(question, seed=seed)
    ]


def option_label(option: str, *, study: Study) -> str:
    return CANT_TELL_LABEL if option == CANT_TELL else study.class_label(option)


def item_question(
    *, item: Item, study: Study, condition_id: int, seed: int, following: Item | None = None
) -> NextQuestion:
    """The study question or attention check ``item``, as the participant in ``condition_id`` sees it.

    Read from the study's content in memory (survey.selectors.content): no query.
    """
    content = study_content(study)
    question, explanation = _with_explanation(item, content=content, condition_id=condition_id)
    return NextQuestion(
        question=question,
        explanation=explanation,
        position=item.position,
        total=item.total,
        options=question_options(question, seed=seed, study=study),
        role=item.role,
        instruction=getattr(question, "instruction", ""),
        preload=()
        if following is None
        else _urls(*_with_explanation(following, content=content, condition_id=condition_id)),
    )


def practice_question(
    *, study: Study, answered: set[int], condition_id: int, seed: int
) -> NextQuestion | None:
    """The first practice question (in the study's order) not answered yet, or None when all are."""
    content = study_content(study)
    practice = content.practice()
    pending = [question for question in practice if question.pk not in answered]
    if not pending:
        return None
    question, following = pending[0], (pending[1] if len(pending) > 1 else None)
    return NextQuestion(
        question=question,
        explanation=content.extra_explanations.get((question.pk, condition_id)),
        position=len(practice) - len(pending) + 1,
        total=len(practice),
        options=question_options(question, seed=seed, study=study),
        preload=()
        if following is None
        else _urls(following, content.extra_explanations.get((following.pk, condition_id))),
    )


def _with_explanation(
    item: Item, *, content: StudyContent, condition_id: int
) -> tuple[Question | ExtraQuestion, Explanation | ExtraExplanation | None]:
    if item.role == Role.ATTENTION:
        return content.extra_questions[item.id], content.extra_explanations.get((item.id, condition_id))
    return content.questions[item.id], content.explanations.get((item.id, condition_id))


def _urls(
    question: Question | ExtraQuestion, explanation: Explanation | ExtraExplanation | None
) -> tuple[str, ...]:
    """What to preload of a question: its image and, when there is one, its explanation."""
    return tuple(image.url for image in (question.image, explanation and explanation.image) if image)
