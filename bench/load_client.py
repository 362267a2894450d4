"""A cheap HTTP/1.1 load generator: asyncio, one connection per request, a cookie jar per client.

The servers share the machine's two cores with this process, so a request costs the generator as little
as it can: an asyncio.Protocol (no streams) writes the request, a few lines written by hand, and collects
the response until the server closes the connection (every request asks it to). Only the status line and
headers are split here; a chunked body is left to http.client. Forms are read with html.parser, from
their tags alone, and only when a flow needs one.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TIMEOUT_S = 120.0  # long, so that an answer that is not acknowledged was refused, not given up on


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]  # (lower-case name, value), in the order received
    body: bytes

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key == name), "")

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        """The path a redirect points to (absolute URLs are cut to their path)."""
        target = urlsplit(self.header("location"))
        return target.path + (f"?{target.query}" if target.query else "")


@dataclass
class Tally:
    """What the generator saw: every status, connection errors and timeouts, participants stopped by an
    unexpected status, and each answer's latency (seconds)."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    stopped: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return len(self.latencies)


def parse_response(raw: bytes) -> Response:
    """A response read to EOF. http.client's parser (email.feedparser) costs a third of the generator's
    time per request, so the head is split here; a chunked body (uvicorn's redirects) goes to http.client."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise http.client.IncompleteRead(raw)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [
        (name.strip().lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines)
    ]
    if ("transfer-encoding", "chunked") in headers:
        return _parsed_by_http_client(raw)
    return Response(status=int(status_line.split(" ", 2)[1]), headers=headers, body=body)


class _Received:
    """A whole response already read, in the shape http.client.HTTPResponse reads from."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def makefile(self, *_: object, **__: object) -> io.BytesIO:
        return io.BytesIO(self.raw)


def _parsed_by_http_client(raw: bytes) -> Response:
    parsed = http.client.HTTPResponse(_Received(raw))  # type: ignore[arg-type]
    parsed.begin()
    headers = [(name.lower(), value) for name, value in parsed.msg.items()]
    return Response(status=parsed.status, headers=headers, body=parsed.read())


class _Exchange(asyncio.Protocol):
    """Writes one request on a new connection and gathers the response until the server closes it."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.chunks: list[bytes] = []
        self.received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.received.done():
            return
        if exc is None:
            self.received.set_result(b"".join(self.chunks))
        else:
            self.received.set_exception(exc)


class Browser:
    """One simulated participant's connection details and cookies."""

    def __init__(self, address: str, tally: Tally) -> None:
        parts = urlsplit(address)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.tally = tally

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def post_json(self, path: str, data: dict) -> Response:
        return await self.request("POST", path, json.dumps(data).encode(), "application/json")

    async def post_form(self, path: str, data: dict[str, str]) -> Response:
        return await self.request("POST", path, urlencode(data).encode(), "application/x-www-form-urlencoded")

    async def request(self, method: str, path: str, body: bytes = b"", content_type: str = "") -> Response:
        try:
            async with asyncio.timeout(TIMEOUT_S):
                response = await self._exchange(self._head(method, path, body, content_type) + body)
        except (OSError, TimeoutError, http.client.HTTPException) as exc:
            self.tally.errors[type(exc).__name__] += 1
            raise
        self.tally.statuses[response.status] += 1
        self._keep_cookies(response)
        return response

    def _head(self, method: str, path: str, body: bytes, content_type: str) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: close"]
        if method == "POST":
            lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _exchange(self, request: bytes) -> Response:
        exchange = _Exchange(request)
        transport, _ = await asyncio.get_running_loop().create_connection(
            lambda: exchange, self.host, self.port
        )
        try:
            return parse_response(await exchange.received)
        finally:
            transport.close()

    def _keep_cookies(self, response: Response) -> None:
        for key, header in response.headers:
            if key != "set-cookie":
                continue
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


class FormReader(HTMLParser):
    """A page's first POST form's action, and its inputs: values by name and each radio group's choices."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.values: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and found.get("method", "").lower() == "post" and not self.action:
            self.action = found.get("action", "")
        if tag != "input":
            return
        name, kind = found.get("name", ""), found.get("type", "text")
        if not name or kind in {"submit", "button"}:
            return
        if kind == "radio":
            self.radios.setdefault(name, []).append(found.get("value", ""))
        elif kind != "checkbox" or "checked" in found:
            self.values[name] = found.get("value", "")


# Form and input tags: HTMLParser reads their attributes, but only theirs: run over a whole page it costs
# about 0.3 ms per kilobyte, more than the rest of a request. (No ">" inside these tags' values here.)
FORM_TAGS = re.compile(r"<(?:form|input)\b[^>]*>", re.IGNORECASE)


def form_of(body: bytes) -> FormReader:
    reader = FormReader()
    reader.feed("".join(FORM_TAGS.findall(body.decode("utf-8", errors="replace"))))
    reader.close()
    return reader


def now() -> float:
    return time.perf_counter()
