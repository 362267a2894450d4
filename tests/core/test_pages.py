from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core.errors import ApplicationError
from core.pages import application_error_page


class Refused(ApplicationError):
    status = 409
    title = "Not now"


@application_error_page("survey/unavailable.html")
def refusing(request: HttpRequest, error: Exception | None) -> HttpResponse:
    if error is not None:
        raise error
    return HttpResponse("fine")


def test_an_application_error_is_shown_with_its_title_message_and_status() -> None:
    response = refusing(RequestFactory().get("/"), Refused("The study is closed."))

    assert response.status_code == 409
    assert "<h1>Not now</h1>" in response.content.decode()
    assert "The study is closed." in response.content.decode()


def test_a_view_that_raises_nothing_is_left_alone() -> None:
    response = refusing(RequestFactory().get("/"), None)

    assert (response.status_code, response.content) == (200, b"fine")


def test_other_errors_still_reach_django() -> None:
    with pytest.raises(KeyError, match="bug"):
        refusing(RequestFactory().get("/"), KeyError("bug"))
