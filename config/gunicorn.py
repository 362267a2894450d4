"""gunicorn settings (`gunicorn -c config/gunicorn.py config.wsgi:application`).

The access log leaves out what the platform promises not to keep: no client address, no query string
(Prolific ids arrive in it), no referer and no user agent; and participant tokens in paths are
redacted, there and in the error log (config.gunicorn_logging).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# The master loads and warms the app (config.wsgi) once; workers fork ready, respawns included.
preload_app = True
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = "config.gunicorn_logging.RedactingLogger"
control_socket_disable = True  # not used, and two instances on one host would share its path


def when_ready(server: Arbiter) -> None:
    """Before the first worker is forked: what every worker needs, read once (config.wsgi)."""
    from config.wsgi import master_warm_up

    master_warm_up()


def post_worker_init(worker: Worker) -> None:
    """Each worker connects to the database and warms up before it takes a request (config.wsgi).

    Not in post_fork: that runs before the worker sets its own signal handlers, so a SIGTERM arriving
    during the warm-up went to the master's inherited handler and was lost, and the worker served on
    until the master's graceful timeout (30 s) killed it. Here a SIGTERM ends the worker right after."""
    from config.wsgi import worker_warm_up

    worker_warm_up()
