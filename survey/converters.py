"""URL converters for the participant's links."""

from __future__ import annotations


class TokenConverter:
    """A participant token as new_token() makes it (URL-safe base64); anything else is not a route.

    Refusing odd characters here means a token with, say, a NUL byte is a plain 404 and never reaches
    the database (PostgreSQL rejects NUL in text and would turn the lookup into a server error).
    """

    regex = r"[A-Za-z0-9_-]{16,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
