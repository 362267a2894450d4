"""A walk through the survey, as the pages see it: a participant's, or a staff member's preview.

The pages are written once, against ``Journey``. A participant's journey is stored (survey.services
.participants and .checks); a preview walks the very same steps and checks but lives in the staff member's
session (survey.services.previews), so it creates no participant and touches no count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Protocol

from django.urls import reverse

from survey.models import Condition, Participant, Study
from survey.selectors.checks import Comprehension, PracticeFeedback
from survey.selectors.participants import (
    NextQuestion,
    Progress,
    Step,
    participant_completion_code,
    participant_comprehension,
    participant_practice_feedback,
    participant_practice_question,
    participant_progress,
    participant_step,
)
from survey.selectors.sequence import Role
from survey.services.checks import comprehension_answer, practice_answer_submit
from survey.services.participants import (
    answer_submit,
    participant_intro_seen,
    participant_leave,
    participant_touch,
)
from survey.services.questions import Completed, participant_current_question

# The pages of a journey, by the name the templates use; each has a participant and a preview URL.
PAGES = ("resume", "intro", "comprehension", "practice", "feedback", "question", "help", "done", "leave")


class Journey(Protocol):
    study: Study
    condition: Condition
    preview: bool

    @property
    def links(self) -> Mapping[str, str]: ...

    def step(self) -> Step: ...

    def intro_seen(self) -> None: ...

    def comprehension(self) -> Comprehension: ...

    def comprehension_answer(self, *, choices: Mapping[int, str]) -> bool: ...

    def practice(self) -> NextQuestion | None: ...

    def practice_answer(self, *, question_id: int, option: str, client_ms: int | None) -> None: ...

    def practice_feedback(self) -> PracticeFeedback | None: ...

    def current(self) -> NextQuestion | Completed: ...

    def answer(self, *, role: Role, question_id: int, option: str, client_ms: int | None) -> None: ...

    def progress(self) -> Progress: ...

    def completion_code(self) -> str: ...

    def leave(self) -> None: ...


class PageLinks(Mapping[str, str]):
    """A participant's page URLs by page name, each reversed when first read: a request reads two or
    three of them, not all nine."""

    def __init__(self, kwargs: dict[str, str]) -> None:
        self.kwargs = kwargs
        self.reversed: dict[str, str] = {}

    def __getitem__(self, page: str) -> str:
        if page not in PAGES:
            raise KeyError(page)
        if page not in self.reversed:
            self.reversed[page] = reverse(f"survey:{page}", kwargs=self.kwargs)
        return self.reversed[page]

    def __iter__(self) -> Iterator[str]:
        return iter(PAGES)

    def __len__(self) -> int:
        return len(PAGES)


class ParticipantJourney:
    """A participant's journey: every step is stored."""

    preview = False

    def __init__(self, participant: Participant) -> None:
        self.participant = participant
        self.study = participant.study
        self.condition = participant.condition
        self.seen = False  # whether this request has recorded the visit (a write that sets last_seen_at)

    def visit_end(self) -> None:
        """Record that the participant was seen, unless the request's own write already did: one UPDATE
        per request, not one more. A participant gone quiet too long is marked abandoned instead."""
        if not self.seen:
            participant_touch(participant=self.participant)
            self.seen = True

    @cached_property
    def links(self) -> Mapping[str, str]:
        return PageLinks({"slug": self.study.slug, "token": self.participant.token})

    def step(self) -> Step:
        return participant_step(self.participant)

    def intro_seen(self) -> None:
        participant_intro_seen(participant=self.participant)

    def comprehension(self) -> Comprehension:
        return participant_comprehension(self.participant)

    def comprehension_answer(self, *, choices: Mapping[int, str]) -> bool:
        return comprehension_answer(participant=self.participant, choices=choices)

    def practice(self) -> NextQuestion | None:
        showing = self.participant.status == Participant.Status.IN_PROGRESS
        self.participant = participant_touch(participant=self.participant, showing=showing)
        self.seen = True  # the touch recorded the visit and started the question's clock, in one UPDATE
        return participant_practice_question(self.participant)

    def practice_answer(self, *, question_id: int, option: str, client_ms: int | None) -> None:
        practice_answer_submit(
            participant=self.participant, question_id=question_id, option=option, client_response_ms=client_ms
        )

    def practice_feedback(self) -> PracticeFeedback | None:
        return participant_practice_feedback(self.participant)

    def current(self) -> NextQuestion | Completed:
        self.seen = True  # participant_current_question records it
        return participant_current_question(participant=self.participant)

    def answer(self, *, role: Role, question_id: int, option: str, client_ms: int | None) -> None:
        result = answer_submit(
            participant=self.participant,
            question_id=question_id,
            option=option,
            role=role,
            client_response_ms=client_ms,
        )
        self.seen = self.seen or result.created  # a stored answer records it

    def progress(self) -> Progress:
        return participant_progress(self.participant)

    def completion_code(self) -> str:
        return participant_completion_code(self.participant)

    def leave(self) -> None:
        participant_leave(participant=self.participant)
