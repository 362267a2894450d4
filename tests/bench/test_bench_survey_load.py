"""The load benchmark's parts that need no server: reading CPU time from /proc, the load generator's
parsing, the burst's verdicts and the ratios over rounds. Nothing here is timed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from bench.load_client import form_of, parse_response
from bench.load_report import burst_checks, percentile_ms, ratio_text, table
from bench.load_servers import CLOCK_TICKS, children, cpu_seconds, stat_fields

# /proc/<pid>/stat of a process whose command name holds a space and a parenthesis: utime 250, stime 50.
STAT = "4242 (web) 1) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 1 0 100 1000 200"


def test_it_reads_the_fields_after_a_command_name_with_spaces_and_parentheses() -> None:
    fields = stat_fields(STAT)

    assert fields[:2] == ["S", "1"]  # state and parent, fields 3 and 4
    assert (fields[11], fields[12]) == ("250", "50")  # utime and stime, fields 14 and 15


def test_it_reads_the_same_cpu_time_for_this_process_as_the_kernel_reports() -> None:
    before = os.times()
    deadline = time.monotonic() + 30
    while os.times().user - before.user < 0.05 and time.monotonic() < deadline:
        sum(range(10_000))  # burn CPU until the kernel has counted some
    after = os.times()

    measured = cpu_seconds(os.getpid())

    assert after.user - before.user >= 0.05
    latest = os.times()
    # Both clocks count whole ticks; half a tick absorbs float rounding (46.16 + 4.22 != 50.38 in floats).
    rounding = 0.5 / CLOCK_TICKS
    assert after.user + after.system - 2 / CLOCK_TICKS <= measured <= latest.user + latest.system + rounding


def test_it_finds_the_children_of_a_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert child.pid in children(os.getpid())
        assert children(child.pid) == []
    finally:
        child.kill()
        child.wait()


def test_it_parses_a_response_with_a_length_and_one_sent_in_chunks() -> None:
    plain = parse_response(
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:8000/s/a/p/t/question/?x=1\r\n"
        b"Set-Cookie: sessionid=abc; Path=/\r\nContent-Length: 2\r\n\r\nok"
    )
    chunked = parse_response(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )

    assert (plain.status, plain.location, plain.body) == (302, "/s/a/p/t/question/?x=1", b"ok")
    assert plain.header("set-cookie") == "sessionid=abc; Path=/"
    assert (chunked.status, chunked.body) == (200, b"abcde")


def test_it_reads_a_forms_action_values_and_radio_choices() -> None:
    page = b"""<form method="dialog"></form>
    <form method="post" action="/s/a/p/t/question/">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input type="hidden" name="question" value="7"><input type="checkbox" name="consent">
      <input type="radio" name="option" value="cat"> <input type="radio" name="option" value="dog">
      <button type="submit">Next</button>
    </form>"""

    form = form_of(page)

    assert form.action == "/s/a/p/t/question/"
    assert form.values == {"csrfmiddlewaretoken": "tok", "question": "7"}  # an unticked box is not sent
    assert form.radios == {"option": ["cat", "dog"]}


def verdicts(**changes: object) -> dict[str, bool]:
    """The burst's checks on a made-up burst where everything went right, but for ``changes``."""
    seen = {
        "conditions": Counter({"gradcam": 2, "pv": 1}),
        "started": {"t1", "t2", "t3"},
        "stored_participants": ["t1", "t2", "t3"],
        "acknowledged": {("t1", 1), ("t1", 2), ("t2", 1)},
        "stored_answers": [("t1", 1), ("t2", 1), ("t1", 2)],
        "statuses": Counter({201: 6, 200: 3}),
        "errors": Counter(),
    }
    return {check.name: check.passed for check in burst_checks(**{**seen, **changes})}


def test_a_burst_where_everything_went_right_passes_every_check() -> None:
    assert all(verdicts().values())


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({"conditions": Counter({"gradcam": 3, "pv": 1})}, "condition counts differ by at most 1"),
        ({"stored_participants": ["t1", "t2"]}, "every acknowledged start is stored, once"),
        ({"stored_answers": [("t1", 1), ("t2", 1)]}, "every acknowledged answer is stored exactly once"),
        (
            {"stored_answers": [("t1", 1), ("t2", 1), ("t1", 2), ("t1", 2)]},
            "every acknowledged answer is stored exactly once",
        ),
        (
            {"stored_answers": [("t1", 1), ("t2", 1), ("t1", 2), ("t3", 1)]},
            "nothing is stored that was not acknowledged",
        ),
        ({"statuses": Counter({201: 6, 502: 1})}, "no 5xx responses"),
        ({"errors": Counter({"ConnectionRefusedError": 1})}, "no connection errors or timeouts"),
    ],
)
def test_a_burst_fails_exactly_the_check_it_breaks(changes: dict, failing: str) -> None:
    results = verdicts(**changes)

    assert [name for name, passed in results.items() if not passed] == [failing]


def test_ratios_over_rounds_read_as_their_median_and_range() -> None:
    assert ratio_text([2.0, 0.5, 1.0]) == "1.00x (0.50-2.00)"
    assert ratio_text([1.0, 3.0]) == "2.00x (1.00-3.00)"


def test_percentiles_are_read_in_milliseconds_from_seconds() -> None:
    latencies = [index / 1000 for index in range(1, 102)]  # 1 ms to 101 ms

    assert percentile_ms(latencies, 50) == pytest.approx(51)
    assert percentile_ms(latencies, 99) == pytest.approx(100)
    assert percentile_ms([0.2], 50) != percentile_ms([0.2], 50)  # NaN: one latency has no percentiles


def test_tables_align_their_columns() -> None:
    assert table(["path", "answers/s"], [["API", 150], ["pages", 9]]).splitlines() == [
        "path   answers/s",
        "API          150",
        "pages          9",
    ]
