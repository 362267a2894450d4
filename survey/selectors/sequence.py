"""The order a participant meets the study's questions and its attention checks in. Pure Python.

A participant's study questions come in their own shuffled order (``question_order``). Attention checks
sit among them at slots, ``[after, check id]``: the check comes once ``after`` study questions are
answered. Participants and previews share these rules, so a preview walks exactly the same path.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What the item in front of the participant is; the pages never show it."""

    QUESTION = "question"  # one of the study's questions (a Question, its answer an Answer)
    ATTENTION = "attention"  # an attention check (an ExtraQuestion, its answer an ExtraAnswer)


@dataclass(frozen=True)
class Item:
    role: Role
    id: int  # the Question's or the ExtraQuestion's id
    position: int  # 1-based, among everything the participant is asked, checks included
    total: int  # study questions plus attention checks: what the progress bar counts


def sequence_items(*, question_order: Sequence[int], slots: Sequence[Sequence[int]]) -> list[Item]:
    """Everything the participant is asked, in order: a check comes once ``after`` study questions are
    answered, before the next question (checks due together come in the slots' order)."""
    order = _sequence_order(question_order, slots)
    total = len(question_order) + len(slots)
    return [Item(role, item_id, index + 1, total) for index, (role, item_id) in enumerate(order)]


def sequence_at(
    *, question_order: Sequence[int], slots: Sequence[Sequence[int]], index: int
) -> tuple[Item | None, Item | None]:
    """The item at 0-based ``index`` (how many are answered: they are answered in order) and the one
    after it; None past the end."""
    order = _sequence_order(question_order, slots)
    total = len(question_order) + len(slots)

    def at(position: int) -> Item | None:
        return Item(*order[position], position + 1, total) if position < len(order) else None

    return at(index), at(index + 1)


def _sequence_order(question_order: Sequence[int], slots: Sequence[Sequence[int]]) -> list[tuple[Role, int]]:
    # A stable sort keeps the slots' own order among checks due after the same question.
    checks = sorted(((int(after), int(check_id)) for after, check_id in slots), key=lambda slot: slot[0])
    order: list[tuple[Role, int]] = []
    pending = 0
    for done in range(len(question_order) + 1):
        while pending < len(checks) and checks[pending][0] <= done:
            order.append((Role.ATTENTION, checks[pending][1]))
            pending += 1
        if done < len(question_order):
            order.append((Role.QUESTION, question_order[done]))
    return order


def sequence_current(
    *,
    question_order: Sequence[int],
    answered: Collection[int],
    slots: Sequence[Sequence[int]],
    checks_answered: Collection[int],
) -> Item | None:
    """The first unanswered item: a due attention check, else the next study question; None when done."""
    for item in sequence_items(question_order=question_order, slots=slots):
        if item.id not in (checks_answered if item.role == Role.ATTENTION else answered):
            return item
    return None


def sequence_following(
    *,
    current: Item,
    question_order: Sequence[int],
    answered: Collection[int],
    slots: Sequence[Sequence[int]],
    checks_answered: Collection[int],
) -> Item | None:
    """The item after ``current``, once it is answered: what the page preloads."""
    if current.role == Role.ATTENTION:
        checks_answered = {*checks_answered, current.id}
    else:
        answered = {*answered, current.id}
    return sequence_current(
        question_order=question_order, answered=answered, slots=slots, checks_answered=checks_answered
    )


def attention_slots_plan(
    *, checks: Sequence[tuple[int, int | None]], n_questions: int, seed: int
) -> list[list[int]]:
    """Where each check (id, fixed position or None) comes: [[after, id], ...], in the order shown.

    A fixed position is kept (clamped to the study's length); the others land at random, seeded per
    participant, away from the first and last fifth, so no check opens or closes the study.
    """
    rng = random.Random(f"attention:{seed}")
    margin = max(1, n_questions // 5)
    low, high = min(margin, n_questions), max(margin, n_questions - margin)
    slots = [
        [min(max(position, 1), n_questions) if position is not None else rng.randint(low, high), check_id]
        for check_id, position in checks
    ]
    return sorted(slots)
