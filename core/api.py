"""The one DRF exception handler: every API error is JSON with a human-readable "message".

An ApplicationError answers with its own status, its message and the JSON-able part of its extra
(``{"message": ..., "problems": [...]}``). DRF's own errors keep their status; their details become the
message, and validation errors also list what is wrong per field under "errors".
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError


# One "Error" component in the schema, whichever app's views answer with it.
@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    """What exception_handler answers, for the API schema."""

    message = serializers.CharField()
    errors = serializers.JSONField(
        required=False, help_text="Validation errors only: what is wrong, per field of the request."
    )


class JsonOnly(DefaultContentNegotiation):
    """For views that answer JSON whatever the client's Accept header says: no Accept header to parse per
    request, and never a 406 or the browsable HTML. Parsers are chosen as usual."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


# A view's settings for that: `renderer_classes, content_negotiation_class = JSON_ONLY`.
JSON_ONLY = ((JSONRenderer,), JsonOnly)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(application_error_data(exc), status=exc.status)
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


def application_error_data(exc: ApplicationError) -> dict[str, Any]:
    """The message first, then whatever of extra JSON can carry (never overriding the message)."""
    extra = {key: value for key, value in exc.extra.items() if key != "message" and _is_json(value)}
    return {"message": exc.message, **extra}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _summarise(data: Any) -> str:
    if isinstance(data, dict):
        parts = [f"{field}: {_summarise(value)}" for field, value in data.items()]
        return "; ".join(parts)
    if isinstance(data, list):
        return " ".join(_summarise(item) for item in data)
    return str(data)
