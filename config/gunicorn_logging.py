"""gunicorn's logger, with participant tokens redacted from the access log and the error log."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger, SafeAtoms

from config.logfilters import RedactTokens, redact


class RedactedAtoms(SafeAtoms):
    """The access log's atoms, each redacted as the log format reads it: every atom can carry a token
    (the request line, the referer, headers, environ variables), but a format reads only a few of them,
    so only those are searched."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        return redact(value) if isinstance(value, str) else value


class RedactingLogger(Logger):
    atoms_wrapper_class = RedactedAtoms

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, RedactTokens) for f in self.error_log.filters):
            self.error_log.addFilter(RedactTokens())
