from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from core.commands import application_errors
from core.errors import ApplicationError


def test_an_application_error_becomes_a_command_error_with_its_message() -> None:
    with pytest.raises(CommandError) as caught, application_errors():
        raise ApplicationError("There is no such folder.")

    assert str(caught.value) == "There is no such folder."
    assert isinstance(caught.value.__cause__, ApplicationError)


def test_the_preface_comes_first_and_problems_the_message_leaves_out_follow() -> None:
    error = ApplicationError("The bundle has 2 problems.", extra={"problems": ["q1: no image", "q2: no key"]})

    with pytest.raises(CommandError) as caught, application_errors("Nothing was imported:"):
        raise error

    assert (
        str(caught.value) == "Nothing was imported:\nThe bundle has 2 problems.\n- q1: no image\n- q2: no key"
    )


def test_problems_the_message_already_says_are_not_printed_twice() -> None:
    error = ApplicationError("q1: no image\nq2: no key", extra={"problems": ["q1: no image", "q2: no key"]})

    with pytest.raises(CommandError) as caught, application_errors():
        raise error

    assert str(caught.value) == "q1: no image\nq2: no key"


def test_it_also_decorates_a_handle_method() -> None:
    @application_errors()
    def handle() -> None:
        raise ApplicationError("Refused.")

    with pytest.raises(CommandError, match=r"^Refused\.$"):
        handle()


def test_other_errors_pass_through_untouched() -> None:
    with pytest.raises(KeyError), application_errors():
        raise KeyError("bug")
