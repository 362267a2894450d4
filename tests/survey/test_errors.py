"""Every survey refusal is an ApplicationError that knows its own HTTP status."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from survey.services.bundles import BundleError
from survey.services.participants import (
    AnswerConflict,
    InvalidOption,
    ParticipantFinished,
    ParticipantNotActive,
    StudyNotOpen,
    WrongQuestion,
)
from survey.services.studies import StudyNotReady


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (WrongQuestion, 400),
        (InvalidOption, 400),
        (AnswerConflict, 409),
        (StudyNotOpen, 409),
        (ParticipantNotActive, 409),
        (ParticipantFinished, 409),
    ],
)
def test_a_wrong_request_is_400_and_a_clash_with_the_state_is_409(error: type, status: int) -> None:
    raised = error("Refused.")

    assert isinstance(raised, ApplicationError)
    assert (raised.status, raised.message) == (status, "Refused.")


def test_a_study_that_cannot_open_lists_its_problems_in_extra_too() -> None:
    raised = StudyNotReady(["the study has no conditions", "the study has no questions"])

    assert raised.status == 409
    assert raised.message == "the study has no conditions; the study has no questions"
    assert (
        raised.problems
        == raised.extra["problems"]
        == ["the study has no conditions", "the study has no questions"]
    )


def test_a_bad_bundle_is_400_with_one_problem_a_line() -> None:
    raised = BundleError(["q1: no image", "q2: no key"])

    assert raised.status == 400
    assert str(raised) == "q1: no image\nq2: no key"
    assert raised.problems == raised.extra["problems"] == ["q1: no image", "q2: no key"]
