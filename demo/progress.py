"""How the demo's first run shows its progress: a line as each phase starts and ends, and a bar in between.

The bar's estimate of the time left is tqdm's, measured from the steps done so far on this machine, never
a constant. A bar needs a terminal; where the output goes to a file or a pipe, the phases' lines (and the
training's per-epoch lines, which say how long is left too) are all that shows.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

Log = Callable[[str], None]
BAR_FORMAT = (
    "  {desc}: {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} {unit} [{elapsed} so far, {remaining} left]"
)


class Phase:
    """One phase of the first run: its bar (or none), and the log its lines go to while the bar shows."""

    def __init__(
        self, name: str, *, total: int, unit: str, log: Log, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name, self.log, self.clock, self.started = name, log, clock, clock()
        self.done, self.total = 0, total  # counted here too: a disabled bar counts nothing
        self.bar = tqdm(
            total=total,
            desc=name,
            unit=unit,
            bar_format=BAR_FORMAT,
            file=sys.stderr,
            disable=None,  # no bar where stderr is not a terminal: a file would fill with redrawn bars
            leave=False,
            dynamic_ncols=True,
        )

    def step(self, count: int = 1) -> None:
        self.done += count
        self.bar.update(count)

    def resize(self, total: int) -> None:
        """A phase that learns its size once under way (rendering, after picking the questions)."""
        self.total = self.bar.total = total
        self.bar.refresh()

    def say(self, line: str) -> None:
        """A line above the bar, which redraws below it."""
        self.bar.clear()
        self.log(line)
        self.bar.refresh()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def pace(self) -> str:
        """How long so far and, at the pace so far, how long is left: for lines that outlive the bar."""
        text = f"{duration_text(self.elapsed())} so far"
        if 0 < self.done < self.total:
            text += f", about {duration_text(self.elapsed() * (self.total - self.done) / self.done)} left"
        return text

    def close(self) -> None:
        self.bar.close()


@contextmanager
def phase(
    name: str, *, total: int, unit: str, log: Log, what: str, clock: Callable[[], float] = time.monotonic
) -> Iterator[Phase]:
    """Run a phase of ``total`` steps: ``what`` it does as it starts, how long it took as it ends."""
    log(f"{name}: {what}")
    current = Phase(name, total=total, unit=unit, log=log, clock=clock)
    try:
        yield current
    finally:
        current.close()
    log(f"{name}: done in {duration_text(current.elapsed())}")


class Ticking:
    """A data loader that steps ``phase`` after each batch, so a training loop moves the phase's bar.

    Everything else (its length, batch size and dataset, which the loops read) is the loader's.
    """

    def __init__(self, loader: Iterable, phase: Phase) -> None:
        self.loader, self.phase = loader, phase

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            yield batch
            self.phase.step()

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``: how long, for people."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"
