"""Every API error carries a human-readable "message" (and DRF's field details when there are any)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from survey.services.participants import (
    AnswerConflict,
    InvalidOption,
    ParticipantNotActive,
    StudyNotOpen,
    SurveyError,
    WrongQuestion,
)

# A refused participant request: 400 when the request itself is wrong, 409 when it clashes with the state.
SURVEY_ERROR_STATUS: dict[type[SurveyError], int] = {
    WrongQuestion: status.HTTP_400_BAD_REQUEST,
    InvalidOption: status.HTTP_400_BAD_REQUEST,
    AnswerConflict: status.HTTP_409_CONFLICT,
    ParticipantNotActive: status.HTTP_409_CONFLICT,
    StudyNotOpen: status.HTTP_409_CONFLICT,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, SurveyError):
        return Response({"message": str(exc)}, status=_survey_error_status(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "message" in data:
        return response
    if isinstance(data, dict) and set(data) == {"detail"}:
        response.data = {"message": str(data["detail"])}
    else:
        response.data = {"message": _summarise(data), "errors": data}
    return response


def _survey_error_status(exc: SurveyError) -> int:
    for kind, code in SURVEY_ERROR_STATUS.items():
        if isinstance(exc, kind):
            return code
    return status.HTTP_400_BAD_REQUEST


def _summarise(data: Any) -> str:
    if isinstance(data, dict):
        parts = [f"{field}: {_summarise(value)}" for field, value in data.items()]
        return "; ".join(parts)
    if isinstance(data, list):
        return " ".join(_summarise(item) for item in data)
    return str(data)
