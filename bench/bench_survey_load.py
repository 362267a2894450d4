"""The survey under load: a real gunicorn (config/gunicorn.py) on a fresh PostgreSQL database.

    python bench/bench_survey_load.py [--quick]

1. CPU per answered question: the gunicorn workers' utime+stime (/proc) over a timed closed-loop run,
   divided by the answers, through the API (GET next + POST answer) and through the pages (question page
   + form POST, following its redirect), at 4 and 16 simulated participants; with answers/s and an
   answer's latency (both its requests), p50 and p99. The load generator's own CPU is read the same way.
2. Against oTree 6 serving the same 30 questions (bench/otree_survey, `otree prodserver`, PostgreSQL):
   one process each (one gunicorn worker of ours), in alternating rounds at the same concurrency.
3. A burst: participants start within about a second, then answer with think times; afterwards the
   database must hold exactly what the generator was told was stored, and the conditions stay balanced.

Needs PostgreSQL: BENCH_DATABASE_URL names a database to connect to first (default the local server's
postgres database); without one it says why and measures nothing. Images are fetched by neither our pages
nor oTree's: a front proxy serves them in production.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import resource
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_client import TIMEOUT_S, Browser, Tally, now  # noqa: E402
from bench.load_flows import (  # noqa: E402
    Burst,
    Participant,
    api_answer_all,
    api_start,
    burst,
    closed_loop,
    gathered,
    otree_start,
    pages_answer_all,
    pages_start,
    survive,
)
from bench.load_report import Check, burst_checks, percentile_ms, ratio_text, table  # noqa: E402
from bench.load_servers import (  # noqa: E402
    children,
    cpu_of,
    cpu_seconds,
    otree_install,
    otree_participants,
    otree_server,
    postgres_database,
    postgres_reachable,
)
from tests.servers import Server, gunicorn_server  # noqa: E402

SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
QUESTIONS = 30  # in the study every section but the burst answers (tests.factories.make_study's)
# Sync workers wait on PostgreSQL for part of each request, so one more worker than cores keeps both cores
# busy while one waits. The sweep after section 1 tries 2, 3 and 4: today's workers are CPU-bound, and the
# three are within this shared machine's noise of each other.
WORKERS = 3
BURST_WORKERS = 4  # one more, for the burst's thousand open participants; the listen backlog holds the rest
WARM_S = 3.0  # an unmeasured run before each server's first measured one; its rate sizes the next runs
# Issue 11's goals: worker CPU per answer by path, and the API's throughput at a p99 latency.
CPU_GOAL_MS = {"API": 8.0, "pages": 12.0}
RATE_GOAL, P99_GOAL_MS = 150, 250


@dataclass(frozen=True)
class Scale:
    seconds: float  # each closed-loop run of section 1
    sweep: tuple[int, ...]  # worker counts tried for the throughput run
    rounds: int  # of the oTree comparison
    round_seconds: float  # each variant's run in a round
    burst_participants: int
    burst_questions: int


DEFAULT = Scale(
    seconds=20, sweep=(2, 3, 4), rounds=3, round_seconds=8, burst_participants=1000, burst_questions=2
)
QUICK = Scale(seconds=5, sweep=(), rounds=3, round_seconds=3, burst_participants=200, burst_questions=2)


@dataclass(frozen=True)
class Flow:
    """How a participant starts (from a study slug or an oTree code, to a token or a page) and answers."""

    name: str
    start: Callable[[Browser, str], Awaitable[str]]
    answer: Callable[[Browser, str, float], Awaitable[None]]


API = Flow("API", api_start, api_answer_all)
PAGES = Flow("pages", pages_start, pages_answer_all)
OTREE = Flow("oTree pages", otree_start, pages_answer_all)
Keys = Callable[[int], list[str]]  # how many participants to start -> what each starts from


def ours(count: int) -> list[str]:
    return ["bench"] * count


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: dict[int, float]  # CPU seconds each watched process used during the run
    generator_cpu: float
    tally: Tally

    @property
    def rate(self) -> float:
        return self.tally.answers / self.seconds

    def ms_per_answer(self, *pids: int) -> float:
        return sum(self.cpu[pid] for pid in pids) * 1000 / max(1, self.tally.answers)

    def percentile(self, percent: int) -> str:
        return f"{percentile_ms(self.tally.latencies, percent):.0f}"


# Running participants


async def _prepared(address: str, flow: Flow, keys: list[str], tally: Tally) -> list[Participant]:
    """Start a participant per key, ready to answer (one the server refuses is counted and left out)."""
    browsers = [Browser(address, tally) for _ in keys]
    starts = (survive(flow.start(b, key), tally) for b, key in zip(browsers, keys, strict=True))
    states = await gathered(starts, limit=8)
    return [partial(flow.answer, b, state) for b, state in zip(browsers, states, strict=True) if state]


def timed_run(
    address: str, flow: Flow, keys: list[str], clients: int, watched: list[int], seconds: float
) -> Run:
    """Start the participants (untimed), then run them in a closed loop with CPU read around it."""
    tally = Tally()
    participants = asyncio.run(_prepared(address, flow, keys, tally))
    before, mine = cpu_of(watched), cpu_seconds(os.getpid())
    elapsed = asyncio.run(closed_loop(clients, participants, tally, now() + seconds))
    after, generator = cpu_of(watched), cpu_seconds(os.getpid()) - mine
    return Run(elapsed, {pid: after[pid] - before[pid] for pid in watched}, generator, tally)


def sized_runner(address: str, flow: Flow, keys: Keys, watched: list[int]) -> Callable[[int, float], Run]:
    """Warm the server up with an unmeasured run; then runs that start enough participants, by its rate."""
    warm = timed_run(address, flow, keys(6), 6, watched, WARM_S)

    def run(clients: int, seconds: float) -> Run:
        per_client = math.ceil(warm.rate * seconds * 1.5 / QUESTIONS / clients) + 1
        return timed_run(address, flow, keys(per_client * clients), clients, watched, seconds)

    return run


def trouble(tally: Tally) -> str:
    """Nothing when every response was as expected; otherwise what went wrong."""
    odd = {status: n for status, n in tally.statuses.items() if status not in {200, 201, 302, 307}}
    if not (odd or tally.errors or tally.stopped):
        return ""
    return f"statuses {odd}, errors {dict(tally.errors)}, participants stopped {tally.stopped}"


# 1. CPU per answer, throughput, latency


def throughput(scale: Scale, work: Path) -> None:
    print(f"\n-- 1. CPU per answered question: {WORKERS} sync workers, closed loops of {scale.seconds:.0f} s")
    api, pages = CPU_GOAL_MS["API"], CPU_GOAL_MS["pages"]
    print(f"goals: API <= {api:.0f} ms CPU, >= {RATE_GOAL} answers/s with p99 < {P99_GOAL_MS} ms", end="; ")
    print(f"pages <= {pages:.0f} ms CPU")
    with gunicorn_server(work / "gunicorn.log", WORKERS) as server:
        workers = children(server.pid)
        rows = [row for flow in (API, PAGES) for row in _throughput_rows(server, workers, flow, scale)]
        replaced = children(server.pid) != workers
    headers = ["path", "clients", "answers", "answers/s", "worker CPU ms/answer", "p50 ms", "p99 ms"]
    print(table([*headers, "generator CPU ms/answer", "goal", ""], rows))
    print("worker CPU: utime+stime of the gunicorn workers (not the master, PostgreSQL or the generator)")
    print("per answer: its two requests (question, answer); a participant's last page counts in the CPU")
    if replaced:
        print("WARNING: a worker was replaced during the runs; its CPU is missing from the figures")
    if scale.sweep:
        _sweep(scale, work)


def _throughput_rows(server: Server, workers: list[int], flow: Flow, scale: Scale) -> list[list[object]]:
    runner = sized_runner(server.address, flow, ours, workers)
    rows = []
    for clients in (4, 16):
        run = runner(clients, scale.seconds)
        cpu = run.ms_per_answer(*workers)
        rows.append([
            flow.name, clients, run.tally.answers, f"{run.rate:.0f}", f"{cpu:.2f}", run.percentile(50),
            run.percentile(99), f"{run.generator_cpu * 1000 / max(1, run.tally.answers):.2f}",
            _goal(flow, run, cpu), trouble(run.tally),
        ])  # fmt: skip
    return rows


def _goal(flow: Flow, run: Run, cpu: float) -> str:
    verdict = f"CPU {'met' if cpu <= CPU_GOAL_MS[flow.name] else 'MISSED'}"
    if flow is API:
        fast = run.rate >= RATE_GOAL and percentile_ms(run.tally.latencies, 99) < P99_GOAL_MS
        verdict += f", rate {'met' if fast else 'MISSED'}"
    return verdict


def _sweep(scale: Scale, work: Path) -> None:
    seconds = scale.seconds / 2
    print(f"\nworkers for the throughput run: the API at 16 clients, {seconds:.0f} s each, 2 rounds")
    rows = []
    for number, counts in enumerate([scale.sweep, scale.sweep[::-1]], 1):  # the second round in reverse
        for count in counts:
            with gunicorn_server(work / f"gunicorn-{count}.log", count) as server:
                workers = children(server.pid)
                run = sized_runner(server.address, API, ours, workers)(16, seconds)
            cpu = f"{run.ms_per_answer(*workers):.2f}"
            latency = [run.percentile(50), run.percentile(99)]
            rows.append([number, count, f"{run.rate:.0f}", cpu, *latency, trouble(run.tally)])
    print(table(["round", "workers", "answers/s", "worker CPU ms/answer", "p50 ms", "p99 ms", ""], rows))


# 2. Against oTree


@dataclass(frozen=True)
class Contender:
    name: str
    run: Callable[[int, float], Run]  # clients, seconds
    processes: dict[str, int]  # what each measured process is -> its pid; the first serves the pages

    def serving_ms(self, run: Run) -> float:
        return run.ms_per_answer(next(iter(self.processes.values())))


def against_otree(scale: Scale, work: Path) -> None:
    clients = 4
    print(f"\n-- 2. against oTree 6.0.15: one process each, {clients} clients, {scale.rounds} rounds")
    why = otree_install()
    if why:
        print(f"skipped: oTree could not be installed: {why}")
        return
    with (
        postgres_database(SERVER_URL, f"bench_load_otree_{os.getpid()}") as otree_database,
        otree_server(otree_database, work / "otree.log") as otree,
        gunicorn_server(work / "gunicorn-one.log", 1) as server,
    ):
        print("oTree: `otree prodserver` (uvicorn, OTREE_PRODUCTION=1), PostgreSQL; ours: GUNICORN_WORKERS=1")
        contenders = _contenders(server, otree)
        rounds = [_round(contenders, number, clients, scale.round_seconds) for number in range(scale.rounds)]
    _otree_report(contenders, rounds)


def _contenders(server: Server, otree: Server) -> list[Contender]:
    ours_measured = {"worker": children(server.pid)[0], "master": server.pid}
    otree_measured = {"server": otree.pid, "timeout worker": children(otree.pid)[0]}
    return [
        _contender(server.address, API, ours, ours_measured),
        _contender(server.address, PAGES, ours, ours_measured),
        _contender(otree.address, OTREE, partial(otree_participants, otree.address), otree_measured),
    ]


def _contender(address: str, flow: Flow, keys: Keys, measured: dict[str, int]) -> Contender:
    """A flow against a server, warmed up once (sized_runner) before the rounds."""
    return Contender(flow.name, sized_runner(address, flow, keys, [*measured.values()]), measured)


def _round(contenders: list[Contender], number: int, clients: int, seconds: float) -> dict[str, Run]:
    """One run of each; the order rotates, so that each goes first once in three rounds."""
    turn = number % len(contenders)
    return {each.name: each.run(clients, seconds) for each in contenders[turn:] + contenders[:turn]}


def _otree_report(contenders: list[Contender], rounds: list[dict[str, Run]]) -> None:
    named = {each.name: each for each in contenders}
    rows = []
    for number, runs in enumerate(rounds, 1):
        for name, run in runs.items():
            measured = named[name].processes.items()
            processes = ", ".join(f"{what} {run.ms_per_answer(pid):.2f}" for what, pid in measured)
            rows.append([number, name, run.tally.answers, f"{run.rate:.1f}", processes, trouble(run.tally)])
    print(table(["round", "variant", "answers", "answers/s", "CPU ms per answered page", ""], rows))
    otree = named[OTREE.name]
    for ours_path in (named[API.name], named[PAGES.name]):
        cpu = [
            ours_path.serving_ms(runs[ours_path.name]) / otree.serving_ms(runs[otree.name]) for runs in rounds
        ]
        rate = [runs[ours_path.name].rate / runs[otree.name].rate for runs in rounds]
        print(
            f"ours ({ours_path.name}) / oTree: CPU per answer {ratio_text(cpu)}, answers/s {ratio_text(rate)}"
        )
    print("(CPU: our worker against oTree's server process; median and range over the rounds)")


# 3. The burst


def burst_section(scale: Scale, work: Path) -> None:
    count, questions = scale.burst_participants, scale.burst_questions
    print(f"\n-- 3. burst: {count} participants start within ~1 s, then answer {questions} questions each")
    print(f"think time 0.5-2 s; {BURST_WORKERS} sync workers, backlog {backlog()}; timeout {TIMEOUT_S:.0f} s")
    with gunicorn_server(work / "gunicorn-burst.log", BURST_WORKERS) as server:
        workers = children(server.pid)
        before, began = cpu_of(workers), now()
        seen = asyncio.run(burst(server.address, "burst", count, think=lambda: random.uniform(0.5, 2.0)))
        cpu, elapsed = sum(cpu_of(workers).values()) - sum(before.values()), now() - began
    _burst_report(seen, cpu, elapsed, count * questions)
    for check in _burst_checks(seen):
        print(check.line())


def backlog() -> int:
    """gunicorn's default listen backlog (config/gunicorn.py keeps it), as far as the kernel allows it."""
    return min(2048, int(Path("/proc/sys/net/core/somaxconn").read_text()))


def _burst_report(seen: Burst, cpu: float, elapsed: float, asked: int) -> None:
    tally, starts = seen.tally, seen.start_latencies
    print(f"starts: {len(seen.started)} acknowledged, the last {seen.start_span:.1f} s after the first sent;")
    print(f"  latency p50 {percentile_ms(starts, 50):.0f} ms, p99 {percentile_ms(starts, 99):.0f} ms")
    print(f"answers: {tally.answers} of {asked} acknowledged in {elapsed:.0f} s;")
    latencies = tally.latencies
    print(f"  latency p50 {percentile_ms(latencies, 50):.0f} ms, p99 {percentile_ms(latencies, 99):.0f} ms")
    print(f"workers' CPU: {cpu:.1f} s in all; participants stopped by an unexpected status: {tally.stopped}")


def _burst_checks(seen: Burst) -> list[Check]:
    from survey.models import Answer, Participant

    participants = Participant.objects.filter(study__slug="burst")
    conditions = Counter(dict.fromkeys(["gradcam", "pv"], 0))
    conditions.update(participants.values_list("condition__key", flat=True))
    answers = Answer.objects.filter(participant__study__slug="burst")
    return burst_checks(
        conditions=conditions,
        started=seen.started,
        stored_participants=list(participants.values_list("token", flat=True)),
        acknowledged=seen.acknowledged,
        stored_answers=list(answers.values_list("participant__token", "question_id")),
        statuses=seen.tally.statuses,
        errors=seen.tally.errors,
    )


# Setting up


def django_ready(database_url: str, work: Path, scale: Scale) -> None:
    """Settings from the environment, as the servers will read them; then the schema and the studies."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(work / "media"),
        STATIC_ROOT=str(work / "static"),
        CELERY_BROKER_URL="",
        SURVEY_START_RATE="1000000/m",  # one client starts every participant here
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from tests.factories import make_study

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    make_study(slug="bench")
    wrong = scale.burst_questions // 2
    make_study(slug="burst", n_correct=scale.burst_questions - wrong, n_wrong=wrong)
    connections.close_all()  # the servers open their own


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A short run (about two minutes).")
    scale = QUICK if parser.parse_args().quick else DEFAULT
    why = postgres_reachable(SERVER_URL)
    if why:
        print(f"skipped: no PostgreSQL at {SERVER_URL} (set BENCH_DATABASE_URL): {why}")
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a socket per participant in the burst
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * scale.burst_participants)), hard))
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at the start")
    try:
        with postgres_database(SERVER_URL, f"bench_load_{os.getpid()}") as database_url:
            django_ready(database_url, work, scale)
            run(scale, work)
    except BaseException:
        print(f"server logs kept in {work}")
        raise
    shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    return 0


def run(scale: Scale, work: Path) -> None:
    from django.db import connections

    try:
        throughput(scale, work)
        against_otree(scale, work)
        burst_section(scale, work)
    finally:
        connections.close_all()  # before the database is dropped


if __name__ == "__main__":
    raise SystemExit(main())
