"""Keep query strings out of the development server's request log (Prolific ids arrive in them)."""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^ \"]*")


class StripQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY.sub("", arg) if isinstance(arg, str) else arg for arg in record.args)
        record.msg = _QUERY.sub("", record.msg) if isinstance(record.msg, str) else record.msg
        return True
