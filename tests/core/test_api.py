from __future__ import annotations

import json
from pathlib import Path

import pytest
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.errors import ApplicationError


class Refused(ApplicationError):
    status = 409


def _answer(exc: Exception) -> Response:
    class RaisingApi(APIView):
        authentication_classes: list = []
        permission_classes = [AllowAny]

        def get(self, request: Request) -> Response:
            raise exc

    response = RaisingApi.as_view()(APIRequestFactory().get("/"))
    response.render()
    return response


def test_an_application_error_answers_with_its_status_and_message() -> None:
    response = _answer(Refused("The study is closed."))

    assert response.status_code == 409
    assert json.loads(response.content) == {"message": "The study is closed."}


def test_a_status_given_at_the_raise_wins_over_the_class_one() -> None:
    assert _answer(Refused("Gone.", status=404)).status_code == 404


def test_extra_travels_along_when_it_is_json_and_never_replaces_the_message() -> None:
    extra = {"problems": ["no questions"], "message": "sneaky", "path": Path("/tmp/bundle")}

    response = _answer(ApplicationError("Cannot open.", extra=extra))

    assert response.status_code == 400
    assert json.loads(response.content) == {"message": "Cannot open.", "problems": ["no questions"]}


def test_a_validation_error_keeps_its_field_details_under_errors() -> None:
    response = _answer(serializers.ValidationError({"option": ["This field is required."]}))

    assert response.status_code == 400
    assert json.loads(response.content) == {
        "message": "option: This field is required.",
        "errors": {"option": ["This field is required."]},
    }


def test_any_other_error_is_left_to_django() -> None:
    with pytest.raises(KeyError, match="bug"):
        _answer(KeyError("bug"))
