"""A staff member's preview of the survey in one condition: every page and check a participant meets.

A preview writes no row at all. Its state (order, answers, checks) lives in the staff member's session,
so it moves no assignment turn, adds to no count, and never reaches an export or an analysis. It follows
the participants' rules (survey.selectors.sequence and .checks), so what it shows is what they get.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

from django.urls import reverse

from survey.models import Condition, ExtraQuestion, Study
from survey.selectors.checks import (
    Comprehension,
    PracticeFeedback,
    comprehension_grade,
    comprehension_state,
    practice_feedback,
)
from survey.selectors.content import study_content
from survey.selectors.participants import NextQuestion, Progress, Step
from survey.selectors.questions import item_question, practice_question, question_option_ids
from survey.selectors.sequence import Item, Role, attention_slots_plan, sequence_current, sequence_following
from survey.services.journeys import PAGES
from survey.services.participants import AnswerConflict, InvalidOption, WrongQuestion
from survey.services.questions import Completed

PREVIEW_CODE = "PREVIEW"  # what a preview shows where a participant would see their completion code


def _key(study: Study, condition: Condition) -> str:
    return f"survey:preview:{study.pk}:{condition.pk}"


class Preview:
    """One preview, kept in ``session``; ``Preview.start`` begins one, ``Preview.load`` carries it on."""

    preview = True

    def __init__(self, session: MutableMapping[str, Any], study: Study, condition: Condition) -> None:
        self.session, self.study, self.condition = session, study, condition
        self.state: dict[str, Any] = session[_key(study, condition)]

    @classmethod
    def start(cls, *, session: MutableMapping[str, Any], study: Study, condition: Condition) -> Preview:
        """A fresh preview, as participant_start would begin it (its own seed, order and check slots)."""
        seed = secrets.randbits(63)
        order = list(study.questions.values_list("id", flat=True))
        random.Random(seed).shuffle(order)
        checks = study.extra_questions.filter(role=ExtraQuestion.Role.ATTENTION).values_list("id", "position")
        session[_key(study, condition)] = {
            "seed": seed,
            "order": order,
            "slots": attention_slots_plan(checks=list(checks), n_questions=len(order), seed=seed),
            "intro": False,
            "right": [],  # comprehension questions answered right, by number
            "wrong": 0,  # wrong comprehension answers
            "practice": {},  # practice question id -> option
            "last_practice": None,
            "answers": {},  # study question id -> option
            "checks": {},  # attention check id -> option
        }
        return cls(session, study, condition)

    @classmethod
    def load(cls, *, session: MutableMapping[str, Any], study: Study, condition: Condition) -> Preview | None:
        """The preview under way, or None: never begun, left, or begun on questions the study no longer has
        (a draft re-imported meanwhile), so it begins again."""
        state = session.get(_key(study, condition))
        if state is None or set(state["order"]) != set(study.questions.values_list("id", flat=True)):
            return None
        return cls(session, study, condition)

    def _save(self) -> None:
        self.session[_key(self.study, self.condition)] = self.state  # marks the session modified

    @property
    def links(self) -> dict[str, str]:
        kwargs = {"slug": self.study.slug, "condition": self.condition.key}
        return {page: reverse(f"survey:preview-{page}", kwargs=kwargs) for page in PAGES}

    def step(self) -> Step:
        if not self.state["intro"]:
            return Step.INTRO
        if self.comprehension().pending:
            return Step.COMPREHENSION
        if self._practice_pending():
            return Step.PRACTICE
        return Step.DONE if self._item() is None else Step.QUESTION

    def intro_seen(self) -> None:
        self.state["intro"] = True
        self._save()

    def comprehension(self) -> Comprehension:
        return comprehension_state(
            condition=self.condition, right=self.state["right"], wrong=self.state["wrong"]
        )

    def comprehension_answer(self, *, choices: Mapping[int, str]) -> bool:
        graded = comprehension_grade(pending=self.comprehension().pending, choices=choices)
        self.state["right"] += [number for number, right in graded.items() if right]
        self.state["wrong"] += sum(1 for right in graded.values() if not right)
        self._save()
        return all(graded.values())

    def _practice_pending(self) -> bool:
        practice = study_content(self.study).practice()
        return any(str(question.pk) not in self.state["practice"] for question in practice)

    def practice(self) -> NextQuestion | None:
        return practice_question(
            study=self.study,
            answered={int(key) for key in self.state["practice"]},
            condition_id=self.condition.pk,
            seed=self.state["seed"],
        )

    def practice_answer(self, *, question_id: int, option: str, client_ms: int | None) -> None:
        given = self.state["practice"].get(str(question_id))
        if given is not None:
            if given != option:
                raise AnswerConflict(
                    "This practice question was already answered; answers cannot be changed."
                )
            return
        current = self.practice()
        if current is None or current.question.pk != question_id:
            raise WrongQuestion("This is not your current practice question.")
        if option not in question_option_ids(current.question):
            raise InvalidOption(f"{option!r} is not one of the options of this practice question.")
        self.state["practice"][str(question_id)] = option
        self.state["last_practice"] = question_id
        self._save()

    def practice_feedback(self) -> PracticeFeedback | None:
        last = self.state["last_practice"]
        question = None if last is None else self.study.extra_questions.filter(pk=last).first()
        if question is None:
            return None
        return practice_feedback(
            question=question,
            option=self.state["practice"][str(last)],
            condition_id=self.condition.pk,
            study=self.study,
            more=self._practice_pending(),
        )

    def _sequence(self) -> dict[str, Any]:
        return {
            "question_order": self.state["order"],
            "answered": {int(key) for key in self.state["answers"]},
            "slots": self.state["slots"],
            "checks_answered": {int(key) for key in self.state["checks"]},
        }

    def _item(self) -> Item | None:
        return sequence_current(**self._sequence())

    def current(self) -> NextQuestion | Completed:
        sequence = self._sequence()
        item = sequence_current(**sequence)
        if item is None:
            return Completed(study=self.study)
        return item_question(
            item=item,
            study=self.study,
            condition_id=self.condition.pk,
            seed=self.state["seed"],
            following=sequence_following(current=item, **sequence),
        )

    def answer(self, *, role: Role, question_id: int, option: str, client_ms: int | None) -> None:
        answers = self.state["checks" if role == Role.ATTENTION else "answers"]
        given = answers.get(str(question_id))
        if given is not None:
            if given != option:
                raise AnswerConflict(
                    "This question was already answered with another option; answers cannot be changed."
                )
            return
        current = self.current()
        if isinstance(current, Completed):
            raise WrongQuestion("Every question of this preview is answered.")
        if (role, question_id) != (current.role, current.question.pk):
            raise WrongQuestion(
                f"Question {question_id} is not your current question; "
                f"question {current.position} of {current.total} is."
            )
        if option not in question_option_ids(current.question):
            raise InvalidOption(f"{option!r} is not one of the options of question {question_id}.")
        answers[str(question_id)] = option
        self._save()

    def progress(self) -> Progress:
        done = len(self.state["answers"]) + len(self.state["checks"])
        return Progress(answered=done, total=len(self.state["order"]) + len(self.state["slots"]))

    def checks_failed(self) -> int:
        """Attention checks this preview answered otherwise than expected (shown on its last page)."""
        checks = self.study.extra_questions.filter(pk__in=[int(key) for key in self.state["checks"]])
        return sum(1 for check in checks if self.state["checks"][str(check.pk)] != check.answer)

    def completion_code(self) -> str:
        return PREVIEW_CODE if self.study.unique_completion_codes else self.study.completion_code

    def leave(self) -> None:
        self.session.pop(_key(self.study, self.condition), None)
