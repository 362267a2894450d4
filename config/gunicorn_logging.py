"""gunicorn's logger, with participant tokens redacted from the access log and the error log."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from config.logfilters import RedactTokens, redact


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, RedactTokens) for f in self.error_log.filters):
            self.error_log.addFilter(RedactTokens())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        # Every atom, not only the path: the request line, the referer and environ variables carry it too.
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
