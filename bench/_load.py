"""A small HTTP load generator: asyncio over raw sockets, split across processes.

Each request opens its own connection (gunicorn's sync workers close after every response),
sends `Connection: close` and reads to the end. Traffic goes to 127.0.0.1 only, and every run
is bounded by a duration and a request count.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# A plan returns, for a random generator, (kind, method, path, headers) of the next request.
Plan = Callable[[random.Random], tuple[str, str, str, dict[str, str]]]


@dataclass
class Result:
    kind: str
    status: int
    started: float  # seconds since the run began
    latency: float  # seconds
    path: str = ""
    cookie: str = ""
    body_mark: bool = False  # the body held the mark the plan looks for
    set_cookie: str = ""


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    elapsed: float = 0.0
    began: float = 0.0  # time.monotonic() when the run began

    def of(self, kind: str | None = None) -> list[Result]:
        return [r for r in self.results if kind is None or r.kind == kind]

    def rate(self, kind: str | None = None) -> float:
        return len(self.of(kind)) / self.elapsed if self.elapsed else 0.0

    def p99_ms(self, kind: str | None = None) -> float:
        latencies = sorted(r.latency for r in self.of(kind))
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000

    def statuses(self, kind: str | None = None) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self.of(kind):
            counts[r.status] = counts.get(r.status, 0) + 1
        return dict(sorted(counts.items()))

    def server_errors(self, kind: str | None = None) -> int:
        return sum(1 for r in self.of(kind) if r.status >= 500)


async def fetch(
    port: int, method: str, path: str, headers: dict[str, str], *, timeout: float = 30
) -> tuple[int, bytes, dict[str, str]]:
    """One request; (status, body, headers). A refused or dropped connection is status 0."""
    body = headers.pop("__body__", "").encode("utf-8", "surrogateescape")
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(head + body)
        raw = await asyncio.wait_for(reader.read(-1), timeout)
        writer.close()
    except (TimeoutError, OSError):
        return 0, b"", {}
    header_end = raw.find(b"\r\n\r\n")
    if header_end < 0:
        return 0, b"", {}
    header_lines = raw[:header_end].decode("latin-1").split("\r\n")
    try:
        status = int(header_lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        return 0, b"", {}
    found: dict[str, str] = {}
    for line in header_lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        found[key] = (found[key] + "\n" if key in found else "") + value.strip()
    return status, raw[header_end + 4 :], found


async def _worker(
    port: int,
    plan: Plan,
    rng: random.Random,
    deadline: float,
    began: float,
    budget: list[int],
    results: list[Result],
    mark: bytes,
) -> None:
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        kind, method, path, headers = plan(rng)
        started = time.monotonic()
        status, body, response_headers = await fetch(port, method, path, dict(headers))
        results.append(
            Result(
                kind=kind,
                status=status,
                started=started - began,
                latency=time.monotonic() - started,
                path=path,
                cookie=headers.get("Cookie", ""),
                body_mark=bool(mark) and mark in body,
                set_cookie=response_headers.get("set-cookie", ""),
            )
        )


def _process_main(port, plan, connections, duration, max_requests, seed, mark, began, queue):
    async def main() -> list[Result]:
        results: list[Result] = []
        budget = [max_requests]
        deadline = time.monotonic() + duration
        rngs = [random.Random(seed * 1000 + i) for i in range(connections)]
        await asyncio.gather(
            *(_worker(port, plan, rng, deadline, began, budget, results, mark) for rng in rngs)
        )
        return results

    queue.put(asyncio.run(main()))


def load(
    *,
    port: int,
    plan: Plan,
    connections: int,
    duration: float,
    max_requests: int = 1_000_000,
    processes: int = 2,
    mark: bytes = b"",
) -> Run:
    """Run `plan` with `connections` concurrent clients for `duration` seconds (or until
    `max_requests`), spread over `processes` processes."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    began = time.monotonic()
    per_process = [
        connections // processes + (i < connections % processes) for i in range(processes)
    ]
    workers = [
        context.Process(
            target=_process_main,
            args=(port, plan, n, duration, max_requests // processes, seed, mark, began, queue),
        )
        for seed, n in enumerate(per_process)
        if n
    ]
    for worker in workers:
        worker.start()
    results: list[Result] = []
    for _ in workers:
        results += queue.get()
    for worker in workers:
        worker.join()
    run = Run(results=results, elapsed=max(time.monotonic() - began, 1e-9), began=began)
    if results:
        run.elapsed = max(r.started + r.latency for r in results)
    return run


def fetch_sync(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    return asyncio.run(fetch(port, method, path, dict(headers or {})))
