"""Management commands print an ApplicationError's message (and its problems) instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from core.errors import ApplicationError


@contextmanager
def application_errors(preface: str = "") -> Iterator[None]:
    """Turn an ApplicationError raised inside into a CommandError that prints it.

    ``with application_errors(f"Nothing was imported from {folder}:"):`` around the service call, or
    ``@application_errors()`` on ``handle``. The preface, when given, is the first line.
    """
    try:
        yield
    except ApplicationError as exc:
        lines = [preface, application_error_text(exc)] if preface else [application_error_text(exc)]
        raise CommandError("\n".join(lines)) from exc


def application_error_text(exc: ApplicationError) -> str:
    """The message, then each of ``extra["problems"]`` the message does not already say, one a line."""
    problems = [str(problem) for problem in exc.extra.get("problems", [])]
    unsaid = [problem for problem in problems if problem not in exc.message]
    return "\n".join([exc.message, *(f"- {problem}" for problem in unsaid)])
