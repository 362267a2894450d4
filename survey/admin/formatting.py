"""How the researcher's pages write durations and rates (static/researcher/live.js writes them alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def duration_text(seconds: float | None) -> str:
    """4 min 12 s; 1 h 3 min; — when there is nothing to say."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def rate_text(row: Mapping[str, Any]) -> str:
    """68% (17 of 25), or — before anyone started."""
    if row["completion_rate"] is None:
        return "—"
    return f"{round(100 * row['completion_rate'])}% ({row['completed']} of {row['started']})"
