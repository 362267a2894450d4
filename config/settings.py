"""Settings, read from environment variables only (see README, Configuration)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from config.env import (
    check_broker_url,
    check_rate,
    env_bool,
    env_int,
    env_list,
    env_paths,
    env_str,
    parse_cache_url,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-" + get_random_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# JSON under /api/, Django's page elsewhere.
CSRF_FAILURE_VIEW = "core.http.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "survey",
    "explainers",
    "analysis",
    "demo",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "core.http.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(env_str("DATABASE_URL", "sqlite:///var/db.sqlite3"), BASE_DIR)}
if env_bool("DATABASE_HEALTH_CHECKS", default=False):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username before any password is checked (admin and API).
AUTHENTICATION_BACKENDS = [
    "config.privacy.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Served by Django itself (with cache headers) unless a front proxy takes over.
SERVE_MEDIA = env_bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Survey behaviour
SURVEY_ABANDON_AFTER_MINUTES = env_int("SURVEY_ABANDON_AFTER_MINUTES", 60)
if SURVEY_ABANDON_AFTER_MINUTES <= 0:
    raise ImproperlyConfigured("SURVEY_ABANDON_AFTER_MINUTES must be positive")

# Celery: an empty broker runs tasks in-process, eagerly (the embedded default).
CELERY_BROKER_URL = check_broker_url(env_str("CELERY_BROKER_URL"))
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Render workers consume this queue (celery worker --queues ...); labs sharing one Redis name their own.
EXPLAINERS_RENDER_QUEUE = env_str("EXPLAINERS_RENDER_QUEUE", "render")
CELERY_TASK_ROUTES = {"explainers.tasks.*": {"queue": EXPLAINERS_RENDER_QUEUE}}
# Redis hands an unacknowledged task to another worker after this many seconds: a worker machine lost
# for good gives its chunk back then. It must exceed the longest task's time limit (render_job_run's
# 3,660 s), or a task still running would be handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200)}
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= 0:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be positive")
CELERY_BEAT_SCHEDULE = {
    "mark-abandoned-participants": {
        "task": "survey.participants_mark_abandoned",
        "schedule": env_int("SURVEY_ABANDON_SWEEP_SECONDS", 300),
    },
}
if CELERY_BEAT_SCHEDULE["mark-abandoned-participants"]["schedule"] <= 0:
    raise ImproperlyConfigured("SURVEY_ABANDON_SWEEP_SECONDS must be positive")

# The cache: rate limits and login lockouts live here, so every worker must share it. CACHE_URL (Redis, on
# a database of its own, not the broker's: clearing a cache flushes its database), else this process's
# memory (right for one process; docker-compose sets Redis).
CACHES = {"default": parse_cache_url(env_str("CACHE_URL"))}
# django-ratelimit calls the local-memory cache unshared (true of several processes) and any other cache
# than memcached or django-redis unsupported; Django's own RedisCache increments atomically.
# django-axes likewise calls the local-memory cache invalid (it is, across processes: set CACHE_URL), and
# warns that lockouts by username alone can be dodged by rotating user agents: that is the privacy choice
# (no address or user agent is ever a lockout key), and lockouts by username cannot be dodged that way.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001", "axes.W001", "axes.W006"]

# Starts per client (the key is a salted hash of its address, kept only in the cache for the period).
# Behind a proxy every client has the proxy's address: name the header the proxy sets (e.g. X-Real-IP).
# Set it only behind a proxy that overwrites the header, or clients could choose their own key.
CLIENT_ADDRESS_HEADER = env_str("CLIENT_ADDRESS_HEADER")
SURVEY_START_RATE = check_rate("SURVEY_START_RATE", env_str("SURVEY_START_RATE", "20/m"))

# Logins (admin and HTTP basic auth) lock out by username after repeated failures. The lockout lives in the
# cache, and no client address or user agent is stored or logged (see config.privacy).
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.privacy.no_client_address"
AXES_CLIENT_STR_CALLABLE = "config.privacy.username_only"
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no start-up banner in every command
if AXES_FAILURE_LIMIT <= 0 or LOGIN_LOCKOUT_MINUTES <= 0:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be positive")

# Explainers: where render jobs write their bundles (outside MEDIA_ROOT: study.json holds the answers),
# and which device renders ("auto" picks CUDA when present).
EXPLAINERS_RENDER_ROOT = Path(env_str("EXPLAINERS_RENDER_ROOT", str(BASE_DIR / "var" / "renders")))
EXPLAINERS_DEVICE = env_str("EXPLAINERS_DEVICE", "auto")
if EXPLAINERS_DEVICE not in {"auto", "cpu", "cuda"} and not EXPLAINERS_DEVICE.startswith("cuda:"):
    raise ImproperlyConfigured(f"EXPLAINERS_DEVICE must be auto, cpu or cuda[:N], got {EXPLAINERS_DEVICE!r}")
# How explanations are computed: "auto" is bf16 autocast on a GPU that has it (its error against fp32 is
# measured in bench/RESULTS.md), fp32 elsewhere. Images per forward pass, the processes that decode them,
# and the threads that encode the PNGs while the next batch runs.
EXPLAINERS_PRECISION = env_str("EXPLAINERS_PRECISION", "auto")
if EXPLAINERS_PRECISION not in {"auto", "fp32", "bf16"}:
    raise ImproperlyConfigured(f"EXPLAINERS_PRECISION must be auto, fp32 or bf16: {EXPLAINERS_PRECISION!r}")
EXPLAINERS_BATCH_SIZE = env_int("EXPLAINERS_BATCH_SIZE", 16)
EXPLAINERS_LOADER_WORKERS = env_int("EXPLAINERS_LOADER_WORKERS", 2)
EXPLAINERS_PNG_THREADS = env_int("EXPLAINERS_PNG_THREADS", 2)
# Memory a worker may keep the features of selection's candidates in, so E runs once per rendered image.
EXPLAINERS_FEATURE_CACHE_MB = env_int("EXPLAINERS_FEATURE_CACHE_MB", 1024)
if EXPLAINERS_BATCH_SIZE < 1 or EXPLAINERS_PNG_THREADS < 1:
    raise ImproperlyConfigured("EXPLAINERS_BATCH_SIZE and EXPLAINERS_PNG_THREADS must be at least 1")
if EXPLAINERS_LOADER_WORKERS < 0 or EXPLAINERS_FEATURE_CACHE_MB < 0:
    raise ImproperlyConfigured("EXPLAINERS_LOADER_WORKERS and EXPLAINERS_FEATURE_CACHE_MB cannot be negative")

# Folders whose PASCAL VOC datasets the admin offers when building a study from models; a study is only
# ever built from a dataset found under one of these.
EXPLAINERS_DATASET_ROOTS = env_paths("EXPLAINERS_DATASET_ROOTS", [BASE_DIR / "var" / "datasets"], BASE_DIR)
# Where checkpoints uploaded through the admin are written (the render workers must see the same path).
EXPLAINERS_CHECKPOINT_ROOT = Path(
    env_str("EXPLAINERS_CHECKPOINT_ROOT", str(BASE_DIR / "var" / "checkpoints"))
)

# Study bundles uploaded as .zip in the admin: caps on what one may unpack to (a zip bomb is refused).
SURVEY_IMPORT_MAX_MB = env_int("SURVEY_IMPORT_MAX_MB", 500)
SURVEY_IMPORT_MAX_FILES = env_int("SURVEY_IMPORT_MAX_FILES", 5000)
if SURVEY_IMPORT_MAX_MB <= 0 or SURVEY_IMPORT_MAX_FILES <= 0:
    raise ImproperlyConfigured("SURVEY_IMPORT_MAX_MB and SURVEY_IMPORT_MAX_FILES must be positive")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "XAI survey platform API",
    "DESCRIPTION": "Participants are known only by token; researcher endpoints need staff authentication.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from the installed drf-spectacular-sidecar: no page loads from another host.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise fetch a validation badge from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "strip_query": {"()": "config.logfilters.StripQueryString"},
        "redact_tokens": {"()": "config.logfilters.RedactTokens"},
    },
    "formatters": {"server": {"format": "[{server_time}] {message}", "style": "{"}},
    # Filters on the handlers, so that whatever logger a record comes from, no token reaches the output.
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["strip_query", "redact_tokens"]},
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": ["strip_query", "redact_tokens"],
        },
    },
    "loggers": {
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "filters": ["strip_query"], "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
