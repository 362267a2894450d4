"""Writes on the participant side: starting, answering, leaving and abandonment.

Every write that must not race takes its lock with an UPDATE before it reads anything: on PostgreSQL
the UPDATE locks the row until commit, and on SQLite (where select_for_update is a no-op) it takes the
database write lock at once, so a transaction never reads and then finds someone else has written.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from itertools import product

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import ApplicationError
from survey import rows
from survey.models import (
    Answer,
    Condition,
    ExtraAnswer,
    ExtraQuestion,
    Participant,
    Question,
    Study,
)
from survey.selectors.content import StudyContent, study_content, study_content_at
from survey.selectors.participants import (
    condition_fill,
    participant_current_item,
    participant_is_stale,
    question_option_ids,
    question_option_order,
)
from survey.selectors.sequence import Item, Role, attention_slots_plan
from survey.selectors.studies import study_abandon_cutoff


class SurveyError(ApplicationError):
    """A participant's request that cannot be carried out; the message is shown as is.

    400 when the request itself is wrong, 409 when it clashes with the participant's or study's state.
    """


class StudyNotOpen(SurveyError):
    status = 409
    title = "Study not available"


class ParticipantNotActive(SurveyError):
    status = 409
    title = "This session has ended"


class ParticipantFinished(ParticipantNotActive):
    title = "Already completed"


class WrongQuestion(SurveyError):
    status = 400


class InvalidOption(SurveyError):
    status = 400


class AnswerConflict(SurveyError):
    status = 409


# Limits on what participants send: Prolific's ids are short, and ids are signed 64-bit integers.
EXTERNAL_ID_MAX = 200
ID_MAX = 2**63 - 1
CLIENT_MS_MAX = 24 * 3600 * 1000  # a browser's response time beyond a day is no measurement
# Unique completion codes: no 0/O or 1/I/L, so a code read off the screen is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
STORE_TRIES = 5  # a store is tried again only after losing a race or a completion-code clash


@dataclass(frozen=True)
class ExternalIdHashes:
    """Salted hashes of the ids Prolific appends to a study link; empty where the link had none."""

    prolific_pid: str = ""
    study_id: str = ""
    session_id: str = ""

    def fit(self, participant: Participant) -> bool:
        """Whether every id the link carries is the participant's own (a link with none fits anyone)."""
        pairs = [
            (self.prolific_pid, participant.prolific_pid_hash),
            (self.study_id, participant.study_id_hash),
            (self.session_id, participant.session_id_hash),
        ]
        return all(not carried or carried == stored for carried, stored in pairs)


@dataclass(frozen=True)
class AnswerResult:
    created: bool  # False when the very same answer was already stored (a double submit)
    answer: Answer | ExtraAnswer  # an ExtraAnswer for an attention check


def external_id_hash(*, study: Study, value: str) -> str:
    """Salted sha256 of an external id (Prolific's); the raw value is never stored."""
    value = value.strip()
    if not value:
        return ""
    return hashlib.sha256((study.hash_salt + value).encode()).hexdigest()


def external_id_hashes(
    *, study: Study, prolific_pid: str = "", study_id: str = "", session_id: str = ""
) -> ExternalIdHashes:
    return ExternalIdHashes(
        prolific_pid=external_id_hash(study=study, value=prolific_pid),
        study_id=external_id_hash(study=study, value=study_id),
        session_id=external_id_hash(study=study, value=session_id),
    )


@transaction.atomic
def participant_start(*, study: Study, id_hashes: ExternalIdHashes | None = None) -> Participant:
    """Assign a condition by the study's policy and create the participant, in one transaction.

    Raises StudyNotOpen unless the study is open (or piloting) and still ready (see _require_ready).
    A participant who starts during the pilot is marked as the pilot's.

    The study's row is locked from the turn to the commit. Only the participant's INSERT runs meanwhile
    (and, for balanced completion, the count of each condition's participants). The study's content comes
    from memory, at the version the turn read (survey.selectors.content); it is read before the turn, so
    that a process that has not read it yet does not hold the lock while it does.
    """
    id_hashes = id_hashes or ExternalIdHashes()
    study_content(study)  # at the version just read with the study; nothing is read if it is in memory
    counter, status, version = _study_turn(study=study)
    study.status = status  # as locked: the policy below fills a pilot with pilot participants
    content = study_content_at(study_id=study.pk, version=version)  # the same, unless changed meanwhile
    conditions = list(content.conditions.values())
    question_ids = list(content.questions)
    _require_ready(content)
    condition = _condition_choose(study=study, conditions=conditions, counter=counter)
    seed = secrets.randbits(63)
    random.Random(seed).shuffle(question_ids)
    extras = content.extra_questions.values()
    checks = [(each.pk, each.position) for each in extras if each.role == ExtraQuestion.Role.ATTENTION]
    practice = any(each.role == ExtraQuestion.Role.PRACTICE for each in extras)
    return Participant.objects.create(
        study=study,
        condition=condition,
        seed=seed,
        question_order=question_ids,
        attention_slots=attention_slots_plan(checks=checks, n_questions=len(question_ids), seed=seed),
        practice_done_at=None if practice else timezone.now(),  # nothing to practise: past it from the start
        is_pilot=status == Study.Status.PILOT,
        prolific_pid_hash=id_hashes.prolific_pid,
        study_id_hash=id_hashes.study_id,
        session_id_hash=id_hashes.session_id,
    )


def _study_turn(*, study: Study) -> tuple[int, str, uuid.UUID]:
    # The UPDATE is the lock (see the module docstring); it also checks, atomically, that the study takes
    # participants (open, or piloting).
    turn = rows.study_turn(study_id=study.pk, statuses=(Study.Status.OPEN, Study.Status.PILOT))
    if turn is None:
        raise StudyNotOpen(_not_open_message(study=study))
    return turn


def _not_open_message(*, study: Study) -> str:
    status = Study.objects.filter(pk=study.pk).values_list("status", flat=True).first()
    if status == Study.Status.DRAFT:
        return "This study is not open yet."
    return "This study is closed."


def _require_ready(content: StudyContent) -> None:
    # Opening checked everything; this recount catches a study changed since (a question without an
    # explanation must never reach a participant). Any change gives the study a new content version.
    if not content.conditions:
        raise StudyNotOpen("This study has no conditions yet.")
    if not content.questions:
        raise StudyNotOpen("This study has no questions yet.")
    questions = product(content.questions, content.conditions)
    extras = product(content.extra_questions, content.conditions)
    study = content.study
    if (
        not all(pair in content.explanations for pair in questions)
        or not all(pair in content.extra_explanations for pair in extras)
        or not (study.completion_code or study.completion_redirect_url or study.unique_completion_codes)
    ):
        raise StudyNotOpen("This study is not ready to take part in yet. Please come back later.")


def _condition_choose(*, study: Study, conditions: list[Condition], counter: int) -> Condition:
    turn = (counter - 1) % len(conditions)
    if study.assignment_policy != Study.Policy.BALANCED_COMPLETION:
        return conditions[turn]
    fill = condition_fill(study=study)
    least = min(fill.get(c.pk, 0) for c in conditions)
    # Ties go in turn: walk from this start's turn to the first least-filled condition.
    in_turn = conditions[turn:] + conditions[:turn]
    return next(c for c in in_turn if fill.get(c.pk, 0) == least)


def participant_touch(
    *, participant: Participant, now: datetime | None = None, showing: bool = False
) -> Participant:
    """Record that the participant was seen, in one UPDATE; with ``showing``, also start the current
    question's clock unless it already runs (a reload keeps the first time). One gone quiet for too long
    is abandoned instead."""
    now = now or timezone.now()
    if participant.status == Participant.Status.IN_PROGRESS and participant_is_stale(participant, now=now):
        _participant_abandon_if_stale(participant=participant, now=now)
        participant.refresh_from_db(fields=["status"])
        return participant
    # The database's clock wins: another request may have shown the question since this one read it.
    sql = _SEEN_AND_SHOWN_SQL if showing else _SEEN_SQL
    rows.participant_execute(sql, [rows.at(now), *([rows.at(now)] if showing else []), participant.pk])
    participant.last_seen_at = now
    if showing:
        participant.current_shown_at = participant.current_shown_at or now
    return participant


# The participant request path's UPDATEs (survey.rows): through the ORM, building them cost three times
# the CPU of running them.
_SEEN_SQL = "UPDATE {table} SET {last_seen_at} = %s WHERE {id} = %s"
_SEEN_AND_SHOWN_SQL = (
    "UPDATE {table} SET {last_seen_at} = %s, {current_shown_at} = COALESCE({current_shown_at}, %s) "
    "WHERE {id} = %s"
)
_MOVED_ON_SQL = (
    "UPDATE {table} SET {answered_count} = %s, {last_seen_at} = %s, {status} = %s, {completed_at} = %s, "
    "{attention_failures} = %s, {attention_failed} = %s, {completion_code} = %s, {current_shown_at} = NULL "
    "WHERE {id} = %s AND {status} = %s AND {answered_count} = %s AND "
)
_SHOWN_NULL, _SHOWN_AT = "{current_shown_at} IS NULL", "{current_shown_at} = %s"


def prepare_statements() -> None:
    """Prepare the request path's statements now (a process's warm-up), not on its first request."""
    rows.prepare()
    for template in (_SEEN_SQL, _SEEN_AND_SHOWN_SQL, _MOVED_ON_SQL + _SHOWN_NULL, _MOVED_ON_SQL + _SHOWN_AT):
        rows.participant_sql(template)


def _participant_abandon_if_stale(*, participant: Participant, now: datetime) -> None:
    cutoff = study_abandon_cutoff(study=participant.study, now=now)
    Participant.objects.filter(
        pk=participant.pk, status=Participant.Status.IN_PROGRESS, last_seen_at__lt=cutoff
    ).update(status=Participant.Status.ABANDONED)


@transaction.atomic
def participant_intro_seen(*, participant: Participant, now: datetime | None = None) -> None:
    """Record that the condition's introduction was read (the first time only)."""
    now = now or timezone.now()
    participant_require_active(participant=participant, now=now)
    Participant.objects.filter(pk=participant.pk, intro_seen_at__isnull=True).update(intro_seen_at=now)
    participant.refresh_from_db(fields=["intro_seen_at"])


@transaction.atomic
def participant_leave(*, participant: Participant) -> None:
    """The participant chose to stop: they count as abandoned, and what they answered is kept."""
    left = Participant.objects.filter(pk=participant.pk, status=Participant.Status.IN_PROGRESS).update(
        status=Participant.Status.ABANDONED
    )
    participant.refresh_from_db(fields=["status"])
    if not left and participant.status == Participant.Status.COMPLETED:
        raise ParticipantFinished("You have already completed this study.")


@transaction.atomic
def participants_mark_abandoned(*, now: datetime | None = None) -> int:
    """Mark every in-progress participant not seen within their study's timeout as abandoned."""
    now = now or timezone.now()
    studies = Study.objects.filter(participants__status=Participant.Status.IN_PROGRESS).distinct()
    marked = 0
    for study in studies:
        cutoff = study_abandon_cutoff(study=study, now=now)
        marked += Participant.objects.filter(
            study=study, status=Participant.Status.IN_PROGRESS, last_seen_at__lt=cutoff
        ).update(status=Participant.Status.ABANDONED)
    return marked


def answer_submit(
    *,
    participant: Participant,
    question_id: int,
    option: str,
    role: Role = Role.QUESTION,
    client_response_ms: int | None = None,
    now: datetime | None = None,
) -> AnswerResult:
    """Store the answer to the participant's current question or attention check; the same answer twice
    is stored once.

    One transaction of two writes: the participant's row moves on, on the condition that it is still as
    it was read (so of two concurrent submits one moves it, and the other, reading it again, is answered
    as a repeat or refused), then the answer is inserted. Refusals write nothing.

    ``client_response_ms`` is the browser's own measure (from both images shown to the click). It is kept
    beside the server's only when plausible: positive and below the server's, which also counts the network.
    """
    now = now or timezone.now()
    for _ in range(STORE_TRIES):
        item = participant_current_item(participant)
        if item is None or (role, question_id) != (item.role, item.id) or not _is_active(participant, now):
            return _answer_not_current(
                participant=participant, role=role, question_id=question_id, option=option, now=now
            )
        question = _item_question(participant=participant, item=item)
        if option not in question_option_ids(question):
            raise InvalidOption(f"{option!r} is not one of the options of question {question_id}.")
        try:
            answer = _answer_store(
                participant=participant,
                item=item,
                question=question,
                option=option,
                now=now,
                client_ms=client_response_ms,
            )
        except (_Moved, IntegrityError):  # another request moved the participant on (or a code clashed)
            participant.refresh_from_db()
            continue
        return AnswerResult(created=True, answer=answer)
    raise IntegrityError(f"the answer could not be stored in {STORE_TRIES} tries")


class _Moved(Exception):
    """The participant's row was not where this request read it: another request wrote it first."""


def _is_active(participant: Participant, now: datetime) -> bool:
    return participant.status == Participant.Status.IN_PROGRESS and not participant_is_stale(
        participant, now=now
    )


def _item_question(*, participant: Participant, item: Item) -> Question | ExtraQuestion:
    content = study_content(participant.study)
    return content.extra_questions[item.id] if item.role == Role.ATTENTION else content.questions[item.id]


def _answer_store(
    *,
    participant: Participant,
    item: Item,
    question: Question | ExtraQuestion,
    option: str,
    now: datetime,
    client_ms: int | None,
) -> Answer | ExtraAnswer:
    timing = answer_timing(participant=participant, now=now, client_ms=client_ms)
    moved_on = _participant_moved_on(
        participant=participant, item=item, question=question, option=option, now=now
    )
    with transaction.atomic():
        if not _participant_move_on(participant=participant, moved_on=moved_on):
            raise _Moved
        if item.role == Role.ATTENTION:
            answer = ExtraAnswer(
                participant=participant,
                question=question,
                option=option,
                correct=option == question.answer,
                position=item.position,
                option_order=question_option_order(question, seed=participant.seed),
                **timing,
            )
        else:
            answer = Answer(
                participant=participant,
                question=question,
                option=option,
                position=participant.question_order.index(question.pk) + 1,
                option_order=question_option_order(question, seed=participant.seed),
                **timing,
            )
        rows.row_insert(answer)
    for field, value in moved_on.items():
        setattr(participant, field, value)
    return answer


def _participant_moved_on(
    *, participant: Participant, item: Item, question: Question | ExtraQuestion, option: str, now: datetime
) -> dict[str, object]:
    """The participant's row once this item is answered: the next item's clock not started yet, and on
    the last item, completed (with their own code when the study gives them)."""
    done = item.position == item.total
    # Exact without a lock: the failures only change with answered_count, which the write checks.
    failed = item.role == Role.ATTENTION and option != question.answer
    failures = participant.attention_failures + failed
    code = participant.completion_code
    if done and participant.study.unique_completion_codes:
        # A clash is about one in 10^15 per pair of codes; the unique constraint has the last word, and
        # answer_submit tries again with another code.
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return {
        "answered_count": participant.answered_count + 1,
        "last_seen_at": now,
        "status": Participant.Status.COMPLETED if done else Participant.Status.IN_PROGRESS,
        "completed_at": now if done else None,
        "attention_failures": failures,
        "attention_failed": participant.attention_failed or failures > participant.study.attention_allowance,
        "completion_code": code,
        "current_shown_at": None,  # the next item's clock starts when it is shown
    }


def _participant_move_on(*, participant: Participant, moved_on: dict[str, object]) -> bool:
    """Write ``moved_on`` if the row is still as read: the same item current, and the same clock (a
    reload may have started it since). Whether it was written."""
    shown = participant.current_shown_at
    params = [
        moved_on["answered_count"],
        rows.at(moved_on["last_seen_at"]),
        moved_on["status"],
        rows.at(moved_on["completed_at"]),
        moved_on["attention_failures"],
        moved_on["attention_failed"],
        moved_on["completion_code"],
        participant.pk,
        Participant.Status.IN_PROGRESS,
        participant.answered_count,
        *([] if shown is None else [rows.at(shown)]),
    ]
    sql = _MOVED_ON_SQL + (_SHOWN_NULL if shown is None else _SHOWN_AT)
    return rows.participant_execute(sql, params) == 1


def _answer_not_current(
    *, participant: Participant, role: Role, question_id: int, option: str, now: datetime
) -> AnswerResult:
    """An answer to anything but the current item of an active participant: a repeat, or a refusal."""
    existing = _answer_existing(participant=participant, role=role, question_id=question_id)
    if existing is not None and existing.option == option:
        return AnswerResult(created=False, answer=existing)
    participant_require_active(participant=participant, now=now)
    if existing is not None:
        raise AnswerConflict(
            f"Question {existing.position} was already answered with another option; "
            "answers cannot be changed."
        )
    current = participant_current_item(participant)
    if current is None:
        raise ParticipantFinished("You have already answered every question.")
    raise WrongQuestion(
        f"Question {question_id} is not your current question; "
        f"question {current.position} of {current.total} is."
    )


def _answer_existing(
    *, participant: Participant, role: Role, question_id: int
) -> Answer | ExtraAnswer | None:
    if role == Role.ATTENTION:
        return ExtraAnswer.objects.filter(
            participant=participant, question_id=question_id, question__role=ExtraQuestion.Role.ATTENTION
        ).first()
    return Answer.objects.filter(participant=participant, question_id=question_id).first()


def answer_timing(*, participant: Participant, now: datetime, client_ms: int | None) -> dict:
    # A question never shown (an API client that answered without asking for it) has no start time:
    # a response time of 0 marks it as unknown rather than inventing one.
    shown_at = participant.current_shown_at or now
    server_ms = max(0, int((now - shown_at).total_seconds() * 1000))
    plausible = client_ms is not None and 0 < client_ms <= min(server_ms, CLIENT_MS_MAX)
    return {
        "shown_at": shown_at,
        "answered_at": now,
        "response_ms": server_ms,
        "client_response_ms": client_ms if plausible else None,
    }


def participant_lock(*, pk: int) -> Participant:
    # A write before any read (module docstring); of=("self",) keeps the study row unlocked.
    Participant.objects.filter(pk=pk).update(seed=F("seed"))
    return Participant.objects.select_for_update(of=("self",)).select_related("study").get(pk=pk)


def participant_require_active(*, participant: Participant, now: datetime) -> None:
    if participant.status == Participant.Status.COMPLETED:
        raise ParticipantFinished("You have already completed this study.")
    if participant.status == Participant.Status.ABANDONED or participant_is_stale(participant, now=now):
        raise ParticipantNotActive(
            "You left this study, or were away too long, so it cannot be continued. "
            "Your answers so far are kept."
        )
