"""Presenting the participant's current question: the one use case behind the question page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from survey.models import Participant, Study
from survey.selectors.content import study_content
from survey.selectors.participants import NextQuestion, participant_by_token, participant_next_question
from survey.services.participants import ParticipantNotActive, participant_touch, prepare_statements


@dataclass(frozen=True)
class Completed:
    """Every question is answered: the participant is shown the study's completion instead."""

    study: Study


def participant_current_question(
    *, participant: Participant, now: datetime | None = None
) -> NextQuestion | Completed:
    """Record the participant as seen, start the current question's clock, and return the question.

    One write (participant_touch), and the question comes from the study's content in memory. Raises
    ParticipantNotActive for a participant who left or went quiet too long (marked abandoned here, which
    stands although the request is refused).
    """
    showing = participant.status == Participant.Status.IN_PROGRESS
    participant = participant_touch(participant=participant, now=now, showing=showing)
    if participant.status == Participant.Status.ABANDONED:
        raise ParticipantNotActive("This participant left the study or was away too long; answers are kept.")
    upcoming = participant_next_question(participant)
    return Completed(study=participant.study) if upcoming is None else upcoming


def participant_requests_prepare() -> int:
    """Do once what a process's first participant request would do: compile the participant lookup and
    the request path's UPDATEs, and read the content of every study taking participants. Returns how
    many studies were read. Touches the database: close its connection before forking workers."""
    for slug in (None, ""):
        participant_by_token(token="", slug=slug)
    prepare_statements()
    studies = Study.objects.filter(status__in=[Study.Status.OPEN, Study.Status.PILOT])
    return sum(1 for study in studies if study_content(study))
