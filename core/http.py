"""Error responses outside any view: too large a body, a CSRF refusal, a database that does not answer.

Under /api/ every one of them is JSON with a "message", like the errors core.api maps; elsewhere it is
a page. core knows no app's pages: the pages here are project templates (templates/503.html) or Django's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import csrf, defaults

API_PREFIX = "/api/"
# How long a client should wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 30
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def too_large(request: HttpRequest) -> HttpResponse:
    megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    message = f"The request body is larger than the {megabytes:g} MiB allowed; nothing was stored."
    if is_api(request):
        return JsonResponse({"message": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After. The page is rendered without the request: sessions and messages need the
    database, and the participant's place is their URL, which a reload asks for again."""
    message = "The study is briefly unavailable. Nothing you answered is lost: try again in a minute."
    if is_api(request):
        response: HttpResponse = JsonResponse({"message": message}, status=503)
    else:
        page = render_to_string("503.html", {"message": message, "retry_url": request.path})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: Django raises RequestDataTooBig as a 400; it is a 413."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    if is_api(request):
        return JsonResponse({"message": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Django calls it while handling the exception, so sys.exc_info() names it."""
    if isinstance(sys.exc_info()[1], UNAVAILABLE_ERRORS):
        return unavailable(request)
    if is_api(request):
        return JsonResponse({"message": "Server error; nothing was stored."}, status=500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON under /api/, Django's page elsewhere."""
    if is_api(request):
        return JsonResponse({"message": f"Forbidden (CSRF check failed: {reason})"}, status=403)
    return csrf.csrf_failure(request, reason)


class ApiBodyLimitMiddleware:
    """Refuse an API body above DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads it.

    DRF's parsers read the stream directly, so Django's own check never runs for JSON. Pages keep
    Django's check (it spares file uploads, which the admin needs), answered as 413 by bad_request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request) and _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return too_large(request)
        return self.get_response(request)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
