"""The first run's progress: a line per phase, and time-left estimates measured from the steps done."""

from __future__ import annotations

from torch.utils.data import DataLoader

from demo.progress import Phase, Ticking, duration_text, phase


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_phase_says_what_it_does_as_it_starts_and_how_long_it_took_as_it_ends() -> None:
    said: list[str] = []
    clock = Clock()

    with phase("dataset", total=10, unit="pictures", log=said.append, what="drawing pictures", clock=clock):
        clock.now += 75

    assert said == ["dataset: drawing pictures", "dataset: done in 1 min 15 s"]


def test_the_time_left_is_the_pace_so_far_times_the_steps_still_to_do() -> None:
    clock = Clock()
    current = Phase("classifier", total=100, unit="steps", log=print, clock=clock)

    before = current.pace()
    clock.now += 30
    current.step(25)
    after_a_quarter = current.pace()
    current.step(75)
    finished = current.pace()
    current.close()

    assert before == "0 s so far"  # no step done yet: no estimate rather than a guess
    assert after_a_quarter == "30 s so far, about 1 min 30 s left"
    assert finished == "30 s so far"


def test_a_ticking_loader_steps_the_phase_after_each_batch_and_is_otherwise_the_loader() -> None:
    loader = DataLoader(list(range(10)), batch_size=4)
    current = Phase("decoder", total=3, unit="steps", log=print)
    ticking = Ticking(loader, current)

    seen = [int(batch.sum()) for batch in ticking]
    current.close()

    assert seen == [6, 22, 17]
    assert current.done == 3
    assert len(ticking) == 3 and ticking.batch_size == 4 and ticking.dataset is loader.dataset


def test_lines_said_during_a_phase_reach_the_log() -> None:
    said: list[str] = []
    current = Phase("decoder", total=3, unit="steps", log=said.append)

    current.say("  decoder epoch 1: ...")
    current.close()

    assert said == ["  decoder epoch 1: ..."]


def test_durations_read_as_seconds_then_minutes() -> None:
    assert [duration_text(s) for s in (0, 42.4, 60, 185, 3600)] == [
        "0 s",
        "42 s",
        "1 min 00 s",
        "3 min 05 s",
        "60 min 00 s",
    ]
