"""The WSGI application, warmed before it takes traffic.

gunicorn loads it once in the master (preload_app), so every worker, and every worker respawned after a
crash, is forked with the URLconf, the views and the participant pages' templates already loaded: its
first request costs what any other does. What needs the database is not done on import (tests and
other tools import this module) but by gunicorn's hooks (config.gunicorn): master_warm_up reads the
content of every study taking participants once, in the master, and closes its connection before any
worker is forked (a study opened later is read by each worker's first request for it); worker_warm_up
connects each new worker and sends one request through the stack before it takes traffic.
"""

from __future__ import annotations

import io
import logging
import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
logger = logging.getLogger(__name__)

PARTICIPANT_TEMPLATES = (
    "503.html",
    "survey/landing.html",
    "survey/intro.html",
    "survey/comprehension.html",
    "survey/feedback.html",
    "survey/question.html",
    "survey/help.html",
    "survey/done.html",
    "survey/leave.html",
    "survey/left.html",
    "survey/abandoned.html",
    "survey/unavailable.html",
)


def warm_up() -> None:
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018  (reading it imports every view and fills the reverse index)
    for name in PARTICIPANT_TEMPLATES:
        get_template(name)


def master_warm_up() -> None:
    """In gunicorn's master, once the app is loaded and before any worker is forked (when_ready): the
    participant request path's statements, and the content of every study taking participants."""
    from django.db import DatabaseError, connections

    from survey.services.questions import participant_requests_prepare

    try:
        studies = participant_requests_prepare()
    except DatabaseError as exc:  # no database yet (or no tables): the workers will read it themselves
        logger.warning("warm-up without the database (%s): first requests read studies themselves", exc)
    else:
        logger.info("warm-up: the content of %d studies taking participants is in memory", studies)
    finally:
        connections.close_all()  # no connection may cross a fork


warm_up()


WARM_UP_TOKEN = "warm-up-no-such-participant"  # shaped like a token, belongs to nobody


def worker_warm_up() -> None:
    """In a new worker, once its signal handlers are set and before it takes traffic (gunicorn's
    post_worker_init): connect to the database and send one participant request through the whole stack,
    so the first real one costs what any other does (the fork's copy-on-write pages included). Its 404 is
    not logged; without a database the first real request connects, or answers 503."""
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        logger.warning("worker warm-up without the database: %s", exc)
        return
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.CRITICAL + 1)  # setLevel, not .level: it clears the loggers' caches
    try:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": f"/api/participants/{WARM_UP_TOKEN}/next/",
            "SERVER_NAME": _allowed_host(),
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        b"".join(application(environ, lambda status, headers: None))
    finally:
        request_log.setLevel(level)


def _allowed_host() -> str:
    """A host name the settings accept (a wildcard's own domain), for the warm-up's request."""
    from django.conf import settings

    named = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host != "*"]
    return named[0] if named else "localhost"
