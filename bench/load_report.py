"""The load benchmark's arithmetic and verdicts, free of servers: percentiles, ratios over rounds, the
burst's checks, and plain-text tables."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


def percentile_ms(seconds: Sequence[float], percent: int) -> float:
    """The ``percent``-th percentile of latencies in seconds, in milliseconds (NaN for fewer than two)."""
    if len(seconds) < 2:
        return float("nan")
    return statistics.quantiles(seconds, n=100, method="inclusive")[percent - 1] * 1000


def ratio_text(ratios: Sequence[float]) -> str:
    """The median of per-round ratios with their range, e.g. "0.42x (0.40-0.47)"."""
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns right-aligned to their widest cell, the first left-aligned."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = []
    for row in cells:
        first, *rest = zip(row, widths, strict=True)
        line = "  ".join([first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)])
        lines.append(line.rstrip())
    return "\n".join(lines)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


Pair = tuple[str, int]  # (participant token, question id)


def burst_checks(
    *,
    conditions: Counter[str],
    started: set[str],
    stored_participants: Sequence[str],
    acknowledged: set[Pair],
    stored_answers: Sequence[Pair],
    statuses: Counter[int],
    errors: Counter[str],
) -> list[Check]:
    """What must hold after a burst, from what the generator was told and what the database holds."""
    return [
        _balanced(conditions),
        _stored_once("every acknowledged start is stored, once", started, stored_participants),
        _stored_once("every acknowledged answer is stored exactly once", acknowledged, stored_answers),
        _nothing_unacknowledged(acknowledged, stored_answers),
        _no_server_errors(statuses),
        Check("no connection errors or timeouts", not errors, _counts(errors) or "none"),
    ]


def _balanced(conditions: Counter[str]) -> Check:
    spread = max(conditions.values()) - min(conditions.values())
    return Check("condition counts differ by at most 1", spread <= 1, _counts(conditions))


def _stored_once(name: str, acknowledged: set, stored: Sequence) -> Check:
    times = Counter(stored)
    missing = sum(1 for item in acknowledged if times[item] == 0)
    repeated = sum(1 for item in acknowledged if times[item] > 1)
    detail = f"{len(acknowledged)} acknowledged, {missing} missing, {repeated} stored more than once"
    return Check(name, not missing and not repeated, detail)


def _nothing_unacknowledged(acknowledged: set[Pair], stored: Sequence[Pair]) -> Check:
    extra = len(set(stored) - acknowledged)
    detail = f"{len(stored)} answers stored, {extra} of them never acknowledged"
    return Check("nothing is stored that was not acknowledged", not extra, detail)


def _no_server_errors(statuses: Counter[int]) -> Check:
    server_errors = Counter({status: n for status, n in statuses.items() if status >= 500})
    return Check("no 5xx responses", not server_errors, f"statuses {_counts(statuses)}")


def _counts(counter: Counter) -> str:
    return ", ".join(
        f"{key}: {count}" for key, count in sorted(counter.items(), key=lambda item: str(item[0]))
    )
