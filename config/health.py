"""Liveness for load balancers and docker-compose healthchecks.

A middleware, first in the chain, so that the check answers on 127.0.0.1 inside the container whatever
ALLOWED_HOSTS says, and without sessions or CSRF.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

HEALTH_PATH = "/healthz"
logger = logging.getLogger(__name__)


def health_response() -> JsonResponse:
    """200 when the database answers; 503 otherwise (the reason goes to the log, not to the caller)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == HEALTH_PATH:
            return health_response()
        return self.get_response(request)
