"""The one error type the explainer services raise for bad input; its message is meant for people."""

from __future__ import annotations

from core.errors import ApplicationError


class RenderError(ApplicationError):
    """A checkpoint, dataset or job that cannot be used; the message says what and why."""

    title = "The study cannot be rendered"


def error_text(exc: BaseException) -> str:
    """What a job records of an exception: our errors speak for themselves, others get their type."""
    # ValueError, not only ApplicationError: explainers.nn's CheckpointError and dataset errors speak too.
    return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
