"""Attention checks among the questions: shown like any question, never counted as one, failures marked."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from analysis.services import study_responses
from survey.models import CANT_TELL, Answer, ExtraAnswer, Participant, Study
from survey.selectors.participants import participant_current_item, participant_progress
from survey.selectors.sequence import Role
from survey.selectors.studies import participants_analysed, study_exclusions
from survey.services.participants import WrongQuestion, answer_submit
from tests.factories import make_study
from tests.survey.helpers_checks import instructed_add, unmistakable_add
from tests.survey.helpers_core import answer_current, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study()
    instructed_add(study, position=3)
    unmistakable_add(study, position=5)
    return study


def answer_until_check(participant: Participant) -> None:
    while participant_current_item(participant).role != Role.ATTENTION:
        answer_current(participant)


def check_answer(participant: Participant, option: str) -> None:
    item = participant_current_item(participant)
    answer_submit(participant=participant, question_id=item.id, option=option, role=Role.ATTENTION)


def test_checks_come_where_the_study_puts_them_and_count_in_the_progress(study: Study) -> None:
    ada = start(study)

    answer_until_check(ada)

    item = participant_current_item(ada)
    assert (item.position, item.total) == (4, 32)
    assert Answer.objects.filter(participant=ada).count() == 3
    assert participant_progress(ada).total == 32


def test_a_check_looks_like_any_question_on_the_page(study: Study) -> None:
    client = Client()
    client.post(reverse("survey:landing", kwargs={"slug": study.slug}), {"consent": "on"})
    ada = Participant.objects.get()
    client.post(reverse("survey:intro", kwargs={"slug": study.slug, "token": ada.token}))
    answer_until_check(ada)

    page = client.get(
        reverse("survey:question", kwargs={"slug": study.slug, "token": ada.token})
    ).content.decode()

    assert "Question 4 of 32" in page
    assert "<legend>What is the model's prediction?</legend>" in page
    assert page.count('type="radio" name="option"') == 5
    assert "For this question, please choose" in page
    assert "attention" not in page.replace(
        'name="role" value="attention"', ""
    )  # only the hidden field says so


def test_a_passed_check_is_recorded_apart_and_never_as_an_answer(study: Study) -> None:
    ada = start(study)
    answer_until_check(ada)

    check_answer(ada, CANT_TELL)

    check = ExtraAnswer.objects.get()
    assert (check.correct, check.position) == (True, 4)
    ada.refresh_from_db()
    assert (ada.attention_failures, ada.attention_failed) == (0, False)
    assert Answer.objects.filter(participant=ada).count() == 3


def test_failing_more_checks_than_allowed_marks_the_participant_and_the_analysis_leaves_them_out(
    study: Study,
) -> None:
    study.attention_allowance = 1
    study.save()
    ada, bob = start(study), start(study)
    for participant in (ada, bob):
        answer_until_check(participant)
        check_answer(participant, "dog")  # the instructed check wanted "can't tell"
        answer_until_check(participant)
    check_answer(ada, "dog")  # the unmistakable picture shows a cat
    check_answer(bob, "cat")

    ada.refresh_from_db()
    bob.refresh_from_db()
    assert (ada.attention_failures, ada.attention_failed) == (2, True)
    assert (bob.attention_failures, bob.attention_failed) == (1, False)  # within the allowance
    assert list(participants_analysed(study=study)) == [bob]
    assert set(participants_analysed(study=study, include_attention_failed=True)) == {ada, bob}
    assert study_exclusions(study=study) == {"pilot": 0, "attention_failed": 1}


def test_a_study_question_answered_while_a_check_is_due_is_refused(study: Study) -> None:
    ada = start(study)
    answer_until_check(ada)
    next_question = next(q for q in ada.question_order if not Answer.objects.filter(question_id=q).exists())

    with pytest.raises(WrongQuestion, match="question 4 of 32 is"):
        answer_submit(participant=ada, question_id=next_question, option=CANT_TELL)

    assert not ExtraAnswer.objects.exists()


def test_the_participant_completes_only_after_every_check_and_the_analysis_sees_only_the_30(
    study: Study,
) -> None:
    ada = start(study)
    while (item := participant_current_item(ada)) is not None:
        if item.role == Role.ATTENTION:
            check_answer(ada, CANT_TELL)
        else:
            answer_current(ada)

    ada.refresh_from_db()
    assert ada.status == Participant.Status.COMPLETED
    assert ExtraAnswer.objects.count() == 2
    assert len(study_responses(study=study)) == 30


def test_the_api_serves_a_check_with_its_role_and_takes_the_answer_back(study: Study) -> None:
    client = Client()
    token = client.post(
        f"/api/studies/{study.slug}/participants/", "{}", content_type="application/json"
    ).json()["token"]
    ada = Participant.objects.get(token=token)
    answer_until_check(ada)

    check = client.get(f"/api/participants/{token}/next/").json()
    without_role = client.post(
        f"/api/participants/{token}/answers/",
        {"question": check["question"], "option": CANT_TELL},
        content_type="application/json",
    )
    answered = client.post(
        f"/api/participants/{token}/answers/",
        {"question": check["question"], "option": CANT_TELL, "role": "attention"},
        content_type="application/json",
    )

    assert check["role"] == "attention" and check["instruction"].startswith("For this question")
    assert (check["position"], check["total"]) == (4, 32)
    assert without_role.status_code == 400
    assert answered.status_code == 201 and answered.json()["role"] == "attention"
    assert "role" not in client.get(f"/api/participants/{token}/next/").json()
