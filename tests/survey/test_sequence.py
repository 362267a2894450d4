"""Where attention checks sit among a participant's questions: pure rules, shared with previews."""

from __future__ import annotations

import random

import pytest

from survey.selectors.sequence import (
    Item,
    Role,
    attention_slots_plan,
    sequence_at,
    sequence_current,
    sequence_following,
)

ORDER = [11, 12, 13, 14, 15]


def test_a_due_attention_check_comes_before_the_next_question() -> None:
    slots = [[2, 900]]

    before = sequence_current(question_order=ORDER, answered={11}, slots=slots, checks_answered=set())
    due = sequence_current(question_order=ORDER, answered={11, 12}, slots=slots, checks_answered=set())
    after = sequence_current(question_order=ORDER, answered={11, 12}, slots=slots, checks_answered={900})

    assert before == Item(Role.QUESTION, 12, position=2, total=6)
    assert due == Item(Role.ATTENTION, 900, position=3, total=6)
    assert after == Item(Role.QUESTION, 13, position=4, total=6)


def test_the_sequence_ends_only_when_questions_and_checks_are_all_answered() -> None:
    assert sequence_current(
        question_order=ORDER, answered=set(ORDER), slots=[[5, 900]], checks_answered=set()
    )
    assert (
        sequence_current(question_order=ORDER, answered=set(ORDER), slots=[[5, 900]], checks_answered={900})
        is None
    )


def test_the_following_item_is_what_comes_once_the_current_one_is_answered() -> None:
    current = Item(Role.QUESTION, 11, 1, 6)

    following = sequence_following(
        current=current, question_order=ORDER, answered=set(), slots=[[1, 900]], checks_answered=set()
    )

    assert following == Item(Role.ATTENTION, 900, 2, 6)


def test_fixed_positions_are_kept_and_clamped_to_the_study() -> None:
    slots = attention_slots_plan(checks=[(900, 3), (901, 99), (902, 0)], n_questions=30, seed=1)

    assert slots == [[1, 902], [3, 900], [30, 901]]


def test_random_positions_stay_away_from_the_first_and_last_fifth_and_follow_the_seed() -> None:
    for seed in range(50):
        slots = attention_slots_plan(checks=[(900, None), (901, None)], n_questions=30, seed=seed)
        assert all(6 <= after <= 24 for after, _ in slots)
        assert slots == attention_slots_plan(checks=[(900, None), (901, None)], n_questions=30, seed=seed)
    spread = {attention_slots_plan(checks=[(900, None)], n_questions=30, seed=s)[0][0] for s in range(50)}
    assert len(spread) > 5


def rule(order: list[int], answered: set[int], slots: list[list[int]], checks: set[int]) -> Item | None:
    """The rule, stated as answered sets: a check is due once `after` questions are answered, and due
    checks come first, in the slots' order."""
    done = sum(1 for question in order if question in answered)
    position = done + sum(1 for _, check in slots if check in checks) + 1
    total = len(order) + len(slots)
    for after, check in slots:
        if check not in checks and done >= after:
            return Item(Role.ATTENTION, check, position, total)
    upcoming = next((question for question in order if question not in answered), None)
    return None if upcoming is None else Item(Role.QUESTION, upcoming, position, total)


@pytest.mark.parametrize("seed", range(30))
def test_the_item_at_a_count_is_the_one_the_rule_gives_after_that_many_answers(seed: int) -> None:
    rng = random.Random(seed)
    order = rng.sample(range(100, 200), rng.randint(1, 12))
    checks_ids = rng.sample(range(900, 999), rng.randint(0, 4))
    slots = sorted([rng.randint(1, len(order)), check] for check in checks_ids)
    answered: set[int] = set()
    checks: set[int] = set()
    for index in range(len(order) + len(slots) + 1):
        expected = rule(order, answered, slots, checks)
        current, following = sequence_at(question_order=order, slots=slots, index=index)
        assert current == expected
        if expected is None:
            break
        (checks if expected.role == Role.ATTENTION else answered).add(expected.id)
        assert following == rule(order, answered, slots, checks)
