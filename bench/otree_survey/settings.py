"""oTree 6 settings for the load benchmark's counterpart of our survey (bench/bench_survey_load.py).

The benchmark serves it with `otree prodserver` (OTREE_PRODUCTION=1) on a PostgreSQL DATABASE_URL of its own.
"""

from os import environ

SESSION_CONFIGS = [
    dict(name="xai", display_name="XAI survey, 30 questions", app_sequence=["xai"], num_demo_participants=2),
]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.00, participation_fee=0.00, doc="")
PARTICIPANT_FIELDS = ["condition", "question_order"]
SESSION_FIELDS = []
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = environ.get("OTREE_ADMIN_PASSWORD")
DEMO_PAGE_INTRO_HTML = ""
SECRET_KEY = environ.get("OTREE_SECRET_KEY", "bench-only")
