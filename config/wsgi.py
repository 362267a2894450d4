"""The WSGI application, warmed before it takes traffic.

gunicorn loads it once in the master (preload_app), so every worker, and every worker respawned after a
crash, is forked with the URLconf, the views and the participant pages' templates already loaded: its
first request costs what any other does. Nothing here touches the database (no connection may cross a
fork).
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

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


warm_up()
