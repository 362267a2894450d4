"""Every API error carries a human-readable "message" (and DRF's field details when there are any)."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
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


def _summarise(data: Any) -> str:
    if isinstance(data, dict):
        parts = [f"{field}: {_summarise(value)}" for field, value in data.items()]
        return "; ".join(parts)
    if isinstance(data, list):
        return " ".join(_summarise(item) for item in data)
    return str(data)
