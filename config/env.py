"""Typed readers for settings that come from environment variables.

A bad value raises ImproperlyConfigured at start-up, never later.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """An unset or empty variable means the default."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_paths(name: str, default: list[Path], base_dir: Path) -> list[Path]:
    """Comma-separated folders; a relative one is taken from base_dir."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    paths = [Path(item.strip()).expanduser() for item in raw.split(",") if item.strip()]
    return [path if path.is_absolute() else base_dir / path for path in paths]


def parse_database_url(url: str, base_dir: Path) -> dict[str, object]:
    """Turn sqlite:///rel.db, sqlite:////abs.db or postgres://u:p@host:port/name into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        raw_path = unquote(parts.path)
        if not raw_path or raw_path == "/":
            raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no SQLite file")
        path = Path(raw_path[1:])  # sqlite:///rel.db -> rel.db, sqlite:////abs.db -> /abs.db
        if not path.is_absolute():
            path = base_dir / path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": {"timeout": 20}}
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return _postgres_settings(url, parts)
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported; use sqlite:/// or postgres://"
    )


def _postgres_settings(url: str, parts: SplitResult) -> dict[str, object]:
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no database")
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL {url!r} has an invalid port") from exc
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        # Query parameters are libpq options, e.g. ?sslmode=require&connect_timeout=5
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        # No SELECT 1 before each request reuses its connection (a round trip per request): after a
        # database restart, a worker's first request answers 503 (core.http) and the next reconnects.
        # DATABASE_HEALTH_CHECKS=1 trades that request for the round trip (config.settings).
        "CONN_HEALTH_CHECKS": False,
    }


BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "sqs", "memory"}


def check_broker_url(url: str) -> str:
    """Empty (run tasks in-process) or a URL with a scheme Celery knows."""
    if url and (urlsplit(url).scheme not in BROKER_SCHEMES or "://" not in url):
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL {url!r} is not a broker URL; use e.g. redis://host:6379/0, or leave it empty"
        )
    return url


def parse_cache_url(url: str) -> dict[str, object]:
    """A Django CACHES entry: Redis for redis:// and rediss://, this process's memory for ""."""
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if urlsplit(url).scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(f"CACHE_URL must be redis:// or rediss://, got {urlsplit(url).scheme}://")


def check_rate(name: str, rate: str) -> str:
    """A django-ratelimit rate, "<count>/<period>" such as "20/m" or "100/10m"."""
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", rate):
        raise ImproperlyConfigured(f'{name} must read like "20/m" or "100/10m", got {rate!r}')
    return rate
