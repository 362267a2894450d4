"""Logging filters that keep what the platform promises not to keep out of every log.

Query strings go (Prolific ids arrive in them), and so do participant tokens, the participants' only
credential, which sit in their paths: /s/<slug>/p/<token>/... and /api/participants/<token>/....
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^ \"]*")
# The token shape is survey.converters.TokenConverter's; config may not import survey.
_TOKEN = re.compile(r"(/(?:p|participants)/)[A-Za-z0-9_-]{16,64}")
REDACTED = "[token]"


def redact(text: str) -> str:
    """``text`` without participant tokens in paths."""
    return _TOKEN.sub(rf"\g<1>{REDACTED}", text)


class StripQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY.sub("", arg) if isinstance(arg, str) else arg for arg in record.args)
        record.msg = _QUERY.sub("", record.msg) if isinstance(record.msg, str) else record.msg
        return True


class RedactTokens(logging.Filter):
    """Redact tokens from the finished message and from the traceback text a formatter would add."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
