"""The one application error base: a message meant for people and the HTTP status that answers it.

Pure Python (no Django import), so every layer can raise it. The DRF handler and the page handler map
it to responses; management commands print its message.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(ValueError):
    """A refusal the user can act on. ``status`` is the HTTP status; ``extra`` holds details (problems).

    Subclasses set ``status`` (and a page ``title``) as class attributes; the constructor may override
    the status for one raise.
    """

    status: int = 400
    title: str = "This cannot be done"  # the heading of the page that shows the message

    def __init__(
        self, message: str, *, status: int | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.extra = dict(extra or {})
