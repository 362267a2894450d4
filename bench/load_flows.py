"""What a simulated participant does: start, then answer every question, through our API, through our
pages, or through oTree's pages; and how many of them run together (a closed loop, or a burst).

Each answered question is two requests: the question (GET next, or the question page) and the answer (a
JSON POST, or a form POST whose redirect leads to the next page). An answer's latency is the time of both,
without the simulated participant's think time.
"""

from __future__ import annotations

import asyncio
import http.client
import math
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from bench.load_client import Browser, Response, Tally, form_of, now

Think = Callable[[], float]  # seconds to wait between seeing a question and answering it
Participant = Callable[[float], Awaitable[None]]  # answers until done, or until the given now() has passed
T = TypeVar("T")


class FlowError(Exception):
    """The server answered something a participant cannot go on from (the status is in the tally)."""


def expect(response: Response, *statuses: int) -> Response:
    if response.status not in statuses:
        raise FlowError(f"HTTP {response.status}, expected {statuses}")
    return response


# Our API


async def api_start(browser: Browser, slug: str) -> str:
    started = expect(await browser.post_json(f"/api/studies/{slug}/participants/", {}), 201)
    return started.json()["token"]


async def api_answer_all(
    browser: Browser,
    token: str,
    until: float = math.inf,
    *,
    think: Think | None = None,
    acknowledged: set[tuple[str, int]] | None = None,
) -> None:
    """Answer every question with its first option; keep (token, question) for each acknowledged one."""
    while now() < until:
        began = now()
        step = expect(await browser.get(f"/api/participants/{token}/next/"), 200).json()
        if step.get("done"):
            return
        shown = now()
        if think:
            await asyncio.sleep(think())
        answer = {"question": step["question"], "option": step["options"][0]["id"]}
        if "role" in step:
            answer["role"] = step["role"]
        sent = now()
        stored = await browser.post_json(f"/api/participants/{token}/answers/", answer)
        expect(stored, 200, 201)
        browser.tally.latencies.append(shown - began + now() - sent)
        if acknowledged is not None:
            acknowledged.add((token, step["question"]))


# Pages: ours (landing, introduction, then a form per question) and oTree's (a form per question)


async def pages_start(browser: Browser, slug: str) -> str:
    """Consent on the landing page and pass the introduction; the path of the first question page."""
    landing = f"/s/{slug}/"
    token = form_of(expect(await browser.get(landing), 200).body).values["csrfmiddlewaretoken"]
    intro = expect(await browser.post_form(landing, {"consent": "on", "csrfmiddlewaretoken": token}), 302)
    form = form_of(expect(await browser.get(intro.location), 200).body)
    question = await browser.post_form(form.action or intro.location, form.values)
    return expect(question, 302).location


async def otree_start(browser: Browser, code: str) -> str:
    return expect(await browser.get(f"/InitializeParticipant/{code}"), 302, 307).location


async def pages_answer_all(browser: Browser, path: str, until: float = math.inf) -> None:
    """Submit each question page's form with its first option, following the redirect to the next page,
    until a page without options (the end) comes."""
    began = now()
    page = expect(await browser.get(path), 200)
    shown = now()
    while (form := form_of(page.body)).radios and shown < until:
        choices = {name: options[0] for name, options in form.radios.items()}
        sent = now()
        answered = expect(await browser.post_form(form.action or path, {**form.values, **choices}), 302)
        browser.tally.latencies.append(shown - began + now() - sent)
        path, began = answered.location, now()
        page = expect(await browser.get(path), 200)
        shown = now()


# How many run together


async def closed_loop(clients: int, participants: Iterable[Participant], tally: Tally, until: float) -> float:
    """Run the participants by ``clients`` at once, each client taking the next as soon as one ends,
    until they are all done or ``until`` (a now()) has passed. Returns the wall-clock seconds.

    A participant the server stopped is counted and left.
    """
    queue = list(participants)
    queue.reverse()

    async def client() -> None:
        while queue and now() < until:
            await survive(queue.pop()(until), tally)

    began = now()
    await asyncio.gather(*(client() for _ in range(clients)))
    return now() - began


async def survive(job: Awaitable[T], tally: Tally) -> T | None:
    """The job's result, or None when the server stopped it (counted here) or a connection failed
    (counted by Browser.request)."""
    try:
        return await job
    except FlowError:
        tally.stopped += 1
    except (OSError, TimeoutError, http.client.HTTPException):
        pass
    return None


async def gathered(jobs: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await every job, ``limit`` at a time; their results in order."""
    gate = asyncio.Semaphore(limit)

    async def gated(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return await asyncio.gather(*(gated(job) for job in jobs))


@dataclass
class Burst:
    """What a burst's generator saw: every acknowledged start and answer, and the starts' latencies."""

    tally: Tally = field(default_factory=Tally)
    started: set[str] = field(default_factory=set)
    acknowledged: set[tuple[str, int]] = field(default_factory=set)
    start_latencies: list[float] = field(default_factory=list)
    start_span: float = 0.0  # from the first start sent to the last one acknowledged


async def burst(address: str, slug: str, count: int, think: Think, window: float = 1.0) -> Burst:
    """``count`` participants start through the API within ``window`` seconds, then answer, thinking."""
    seen = Burst()
    began = now()

    async def participant() -> None:
        await asyncio.sleep(random.uniform(0, window))
        browser = Browser(address, seen.tally)
        sent = now()
        token = await api_start(browser, slug)
        seen.start_latencies.append(now() - sent)
        seen.started.add(token)
        seen.start_span = max(seen.start_span, now() - began)
        await api_answer_all(browser, token, think=think, acknowledged=seen.acknowledged)

    await asyncio.gather(*(survive(participant(), seen.tally) for _ in range(count)))
    return seen
