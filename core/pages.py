"""The one page handler: an ApplicationError a page view raises is shown as a page with its status."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import ApplicationError

View = Callable[..., HttpResponse]


def application_error_page(template_name: str) -> Callable[[View], View]:
    """Decorate a page view so an ApplicationError it raises renders ``template_name`` with its status.

    The template gets ``title`` and ``message`` (the error's) and ``extra`` (its details). Each app names
    its own template, so core knows no app's pages.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except ApplicationError as exc:
                context = {"title": exc.title, "message": exc.message, "extra": exc.extra}
                return render(request, template_name, context, status=exc.status)

        return wrapper

    return decorate
