"""Starting a participant: assignment policies, their question order, and Prolific ids kept hashed."""

from __future__ import annotations

import hashlib
import random

import pytest

from survey.models import Condition, Explanation, Participant, Study
from survey.services.participants import StudyNotOpen, participant_start
from survey.signals import study_content_changed
from tests.factories import make_study
from tests.survey.helpers_core import answer_all, last_seen_minutes_ago, start

pytestmark = pytest.mark.django_db


def test_round_robin_hands_out_the_conditions_in_turn() -> None:
    study = make_study(conditions=("gradcam", "pv", "lime"))

    keys = [start(study).condition.key for _ in range(7)]

    assert keys == ["gradcam", "pv", "lime", "gradcam", "pv", "lime", "gradcam"]
    study.refresh_from_db()
    assert study.assignment_counter == 7


def test_round_robin_counts_starts_not_completions() -> None:
    study = make_study()
    ada = start(study)
    answer_all(ada)

    assert [start(study).condition.key for _ in range(2)] == ["pv", "gradcam"]


def test_balanced_completion_picks_the_least_filled_condition() -> None:
    study = make_study(policy=Study.Policy.BALANCED_COMPLETION)
    ada, bob = start(study), start(study)
    assert (ada.condition.key, bob.condition.key) == ("gradcam", "pv")
    answer_all(ada)
    Participant.objects.filter(pk=bob.pk).update(status=Participant.Status.ABANDONED)

    # gradcam 1 (ada), pv 0 (bob left): pv. Then 1-1, a tie on pv's turn: pv. Then 1-2: gradcam.
    assert [start(study).condition.key for _ in range(3)] == ["pv", "pv", "gradcam"]


def test_balanced_completion_ignores_stale_participants_still_marked_in_progress() -> None:
    study = make_study(policy=Study.Policy.BALANCED_COMPLETION)
    ada, bob = start(study), start(study)
    answer_all(ada)
    last_seen_minutes_ago(bob, 24 * 60)

    assert start(study).condition.key == "pv"


def test_balanced_completion_counts_active_participants_in_progress() -> None:
    study = make_study(policy=Study.Policy.BALANCED_COMPLETION)
    ada = start(study)

    assert ada.condition.key == "gradcam"
    assert start(study).condition.key == "pv"


def test_balanced_completion_breaks_ties_in_turn() -> None:
    study = make_study(conditions=("a", "b", "c"), policy=Study.Policy.BALANCED_COMPLETION)

    assert [start(study).condition.key for _ in range(3)] == ["a", "b", "c"]


def test_the_question_order_is_the_questions_shuffled_by_the_participants_seed() -> None:
    study = make_study()

    ada = start(study)

    ids = list(study.questions.values_list("id", flat=True))
    random.Random(ada.seed).shuffle(ids)
    assert ada.question_order == ids
    assert sorted(ada.question_order) == sorted(study.questions.values_list("id", flat=True))
    assert 0 <= ada.seed < 2**63


def test_two_participants_get_different_tokens_and_orders() -> None:
    study = make_study()

    ada, bob = start(study), start(study)

    assert ada.token != bob.token and len(ada.token) >= 32
    assert ada.question_order != bob.question_order


def test_prolific_ids_are_stored_only_as_salted_hashes() -> None:
    study = make_study()

    ada = start(study, prolific_pid="5f1d2a3b4c5d6e7f8a9b0c1d", study_id="STUDY42", session_id="SESSION7")

    expected = hashlib.sha256((study.hash_salt + "5f1d2a3b4c5d6e7f8a9b0c1d").encode()).hexdigest()
    assert ada.prolific_pid_hash == expected
    assert ada.study_id_hash == hashlib.sha256((study.hash_salt + "STUDY42").encode()).hexdigest()
    stored = Participant.objects.filter(pk=ada.pk).values().get()
    assert not any("5f1d2a3b" in str(value) or "STUDY42" in str(value) for value in stored.values())


def test_missing_prolific_ids_leave_the_hashes_empty() -> None:
    ada = start(make_study())

    assert (ada.prolific_pid_hash, ada.study_id_hash, ada.session_id_hash) == ("", "", "")


def test_the_same_prolific_id_hashes_differently_in_another_study() -> None:
    first, second = make_study(slug="first"), make_study(slug="second")

    assert (
        start(first, prolific_pid="P1").prolific_pid_hash
        != start(second, prolific_pid="P1").prolific_pid_hash
    )


@pytest.mark.parametrize(
    ("status", "message"),
    [(Study.Status.CLOSED, "This study is closed."), (Study.Status.DRAFT, "This study is not open yet.")],
)
def test_a_study_that_is_not_open_refuses_to_start_anyone(status: str, message: str) -> None:
    study = make_study(status=status)

    with pytest.raises(StudyNotOpen, match=message):
        participant_start(study=study)

    study.refresh_from_db()
    assert study.assignment_counter == 0
    assert not Participant.objects.exists()


def test_a_study_without_questions_refuses_to_start_anyone_and_keeps_its_counter() -> None:
    study = make_study(n_correct=0, n_wrong=0)

    with pytest.raises(StudyNotOpen, match="no questions"):
        participant_start(study=study)

    study.refresh_from_db()
    assert study.assignment_counter == 0


def _condition_added(study: Study) -> None:
    Condition.objects.create(study=study, key="lime", name="LIME")


def _explanation_deleted(study: Study) -> None:
    Explanation.objects.filter(question__study=study).first().delete()


def _completion_removed(study: Study) -> None:
    Study.objects.filter(pk=study.pk).update(completion_code="", completion_redirect_url="")
    study_content_changed(study_id=study.pk)  # a bulk update must say so (survey.signals)


@pytest.mark.parametrize("change", [_condition_added, _explanation_deleted, _completion_removed])
def test_an_open_study_changed_behind_its_back_refuses_to_start_anyone(change) -> None:
    study = make_study(n_correct=2, n_wrong=1)
    ada = participant_start(study=study)  # this process now keeps the study's content in memory
    change(study)

    with pytest.raises(StudyNotOpen, match="This study is not ready to take part in yet"):
        participant_start(study=study)

    study.refresh_from_db()
    assert study.assignment_counter == 1
    assert list(Participant.objects.all()) == [ada]
