"""The read path at the speed of a cache (DESIGN §13), measured side by side in one run.

A mirrored calendar of about 4,500 events over a year, whose benchmark week holds 500
occurrences (440 single events and 12 daily series expanded by the core), is read over
real HTTP on loopback with keep-alive:

- repeated ``GET /events`` of that week by calproxy, and by a bare aiohttp server that
  returns the same bytes from a handler, under the same load (``wrk`` if installed, else
  a Python load loop of several keep-alive clients; either way in a separate process);
- the first read of a new window (500 occurrences, a window never asked before), as
  *server time*: a middleware outside all of calproxy's own answers with a
  ``Server-Timing`` header giving the wall time and the process CPU time from the request
  entering the app to its answer being ready (the socket write of the body and the
  client are outside it); once over a calendar read before, once with every read cache
  emptied first (store query, expansion, redaction and rendering of every event);
- 304 answers per second (``If-None-Match`` with the answer's ETag);
- repeated ``GET /v1/me`` (user, account and integrations from the principal cache)
  beside ``/healthz`` (no authentication, no lookup), alternating, under the same load;
- memory per cached event (tracemalloc over new windows), and the caches' bounds.

The load averages (1, 5 and 15 minutes) are printed before and after: on a shared
machine they move every figure.

Run from the repository root: ``.venv/bin/python bench/api_cache.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.served import Served, served
from proxy.cache import ReadCaches
from proxy.cache.principals import MAX_ENTRIES
from proxy.core import recurrence
from proxy.core.model import Event, Sensitivity, Service
from proxy.http.keys import READ_CACHES
from proxy.store import codec
from proxy.store.records import Delegation, Role

WEEK_SINGLES, SERIES, OTHER_SINGLES = 440, 12, 4000
SECONDS, CONNECTIONS, ROUNDS = 3, 8, 5
WINDOWS = 30
SETTLE = 3  # seconds for what the initial sync set off (change tracking, indexing)
MONDAY = (datetime.now(UTC) + timedelta(days=7 - datetime.now(UTC).weekday())).replace(
    hour=0, minute=0, second=0, microsecond=0)

LOAD_LOOP = r"""
import asyncio, sys, time
import aiohttp

async def client(session, url, headers, until, counts):
    while time.perf_counter() < until:
        async with session.get(url, headers=headers) as response:
            await response.read()
            counts[response.status] = counts.get(response.status, 0) + 1

async def main(url, seconds, connections, headers):
    counts = {}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(client(session, url, headers, until, counts)
                               for _ in range(connections)))
    print(sum(counts.values()) / seconds, counts)

args = sys.argv[1:]
headers = dict(h.split(": ", 1) for h in args[3:])
asyncio.run(main(args[0], float(args[1]), int(args[2]), headers))
"""


def seed(bench: Served) -> None:
    rng = random.Random(11)
    key = bench.mailbox
    for n in range(WEEK_SINGLES):
        start = MONDAY + timedelta(minutes=15 * rng.randrange(0, 4 * 24 * 7 - 4))
        bench.backend.put_event(key, Event(
            f"w{n}", "primary", Service.GRAPH, start, start + timedelta(minutes=45),
            title=f"Meeting {n}", description="Agenda " * 20, location="Room 1",
            sensitivity=Sensitivity.PRIVATE if n % 7 == 0 else Sensitivity.NORMAL))
    for n in range(SERIES):  # 12 x 5 weekday occurrences in the benchmark week
        start = MONDAY - timedelta(days=21) + timedelta(hours=7 + n)
        bench.backend.put_event(key, Event(
            f"s{n}", "primary", Service.GRAPH, start, start + timedelta(minutes=30),
            title=f"Standup {n}", rrule=("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",),
            time_zone="Europe/Berlin"))
    for n in range(OTHER_SINGLES):
        days = rng.choice([rng.randrange(-28, 0), rng.randrange(8, 360)])
        start = MONDAY + timedelta(days=days, hours=rng.randrange(0, 24))
        bench.backend.put_event(key, Event(f"o{n}", "primary", Service.GRAPH, start,
                                           start + timedelta(minutes=30), title=f"Other {n}"))


def window(start: datetime, days: int = 7) -> str:
    def fmt(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"start={fmt(start)}&end={fmt(start + timedelta(days=days))}"


def load(url: str, headers: dict[str, str], seconds: int = SECONDS) -> float:
    """Requests per second of ``url`` under load from a separate process."""
    if shutil.which("wrk"):
        flags = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
        out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", *flags, url],
                             capture_output=True, text=True, check=True).stdout
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert (found and "Non-2xx" not in out) or "304" in str(headers), out
        return float(found.group(1)) if found else 0.0
    out = subprocess.run([sys.executable, "-c", LOAD_LOOP, url, str(seconds), str(CONNECTIONS),
                          *(f"{k}: {v}" for k, v in headers.items())],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


async def in_thread(url: str, headers: dict[str, str], seconds: int = SECONDS) -> float:
    return await asyncio.to_thread(load, url, headers, seconds)


async def bare_server(body: bytes, etag: str) -> TestServer:
    """A bare aiohttp handler returning the same bytes and headers, nothing else."""
    async def handler(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json",
                            headers={"ETag": etag, "Cache-Control": "private, no-cache"})

    app = web.Application()
    app.router.add_get("/events", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@web.middleware
async def server_timing(request: web.Request, handler: Any) -> web.StreamResponse:
    """Outside every middleware of calproxy: wall and process CPU time of the request
    until its answer is ready, as ``Server-Timing: app;dur=W, cpu;dur=C`` (ms)."""
    wall, cpu = time.perf_counter(), time.process_time()
    response: web.StreamResponse = await handler(request)
    response.headers["Server-Timing"] = (
        f"app;dur={(time.perf_counter() - wall) * 1000:.3f}, "
        f"cpu;dur={(time.process_time() - cpu) * 1000:.3f}")
    return response


@dataclass
class Reads:
    """Times of first reads of new windows: client-side, and the server's own."""

    client: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    occurrences: int = 0


async def first_reads(http: aiohttp.ClientSession, base: str, auth: dict[str, str],
                      count: int, offset: int, cold: ReadCaches | None = None) -> Reads:
    """Reads of windows never asked before (each shifted by a minute); with ``cold``,
    every read cache is emptied first (only the decode memo the sync filled, the series
    memos and the principal lookups remain)."""
    reads = Reads()
    for n in range(count):
        if cold is not None:
            cold.clear()
        url = f"{base}/events?{window(MONDAY + timedelta(minutes=offset + n))}"
        await asyncio.sleep(0.05)  # nothing of the previous read still running
        began = time.perf_counter()
        async with http.get(url, headers=auth) as response:
            body = await response.read()
            timing = dict(re.findall(r"(\w+);dur=([\d.]+)", response.headers["Server-Timing"]))
        reads.client.append((time.perf_counter() - began) * 1000)
        reads.wall.append(float(timing["app"]))
        reads.cpu.append(float(timing["cpu"]))
        reads.occurrences = len(json.loads(body)["events"])
    return reads


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):5.1f} ms, best {min(values):5.1f} ms"


def print_reads(title: str, reads: Reads) -> None:
    print(f"{title} ({reads.occurrences} occurrences, {len(reads.wall)} windows):")
    print(f"  server wall time:   {spread(reads.wall)}")
    print(f"  server CPU time:    {spread(reads.cpu)}")
    print(f"  client round trip:  {spread(reads.client)}")


def load_averages() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} cores"


async def main() -> None:
    async with served(outer=[server_timing]) as bench:
        delegate = await bench.store.create_user(bench.owner.account_id,
                                                 "assistant@example.com", Role.MEMBER)
        await bench.store.put_delegation(Delegation(bench.owner.id, delegate.id, True, False))
        seed(bench)
        auth = {"Authorization": f"Bearer {await bench.store.create_token(bench.owner.id)}"}
        base = f"{bench.url}/v1/users/exec@example.com"
        url = f"{base}/events?{window(MONDAY)}"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, headers=auth) as response:  # the initial sync
                body, etag = await response.read(), response.headers["ETag"]
            shown = len(json.loads(body)["events"])
            print(f"load averages before the run: {load_averages()}")
            print(f"week: {shown} occurrences, {len(body) / 1000:.0f} kB per answer; "
                  f"load: {'wrk' if shutil.which('wrk') else 'Python loop'}, "
                  f"{CONNECTIONS} keep-alive connections, {SECONDS} s each")
            await report_rates(url, auth, body, etag)
            await report_me(bench.url, auth)
            print_reads("first read of a new window of a calendar read before",
                        await first_reads(http, base, auth, WINDOWS, 1))
            print_reads("first read of a new window, every read cache emptied first",
                        await first_reads(http, base, auth, WINDOWS, 100,
                                          cold=bench.app[READ_CACHES]))
            await report_memory(bench, http, base, auth)
            print(f"load averages after the run: {load_averages()}")


async def report_rates(url: str, auth: dict[str, str], body: bytes, etag: str) -> None:
    """Alternating runs (calproxy, bare, calproxy, bare, ...) so that load from elsewhere
    on the machine falls on both alike; the ratio of each pair, and their median. The
    work that follows the initial sync (change tracking, indexing) is let finish first,
    and one short run of each warms both up: the figures are of the steady state."""
    bare = await bare_server(body, etag)
    ours, theirs = [], []
    try:
        await asyncio.sleep(SETTLE)
        await in_thread(url, auth, 1)
        await in_thread(f"http://127.0.0.1:{bare.port}/events", auth, 1)
        for _ in range(ROUNDS):
            ours.append(await in_thread(url, auth))
            theirs.append(await in_thread(f"http://127.0.0.1:{bare.port}/events", auth))
    finally:
        await bare.close()
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    print("repeated /events, calproxy:        "
          f"{statistics.median(ours):8.0f} requests/s (runs: "
          f"{', '.join(f'{r:.0f}' for r in ours)})")
    print("same bytes, bare aiohttp handler:  "
          f"{statistics.median(theirs):8.0f} requests/s (runs: "
          f"{', '.join(f'{r:.0f}' for r in theirs)})")
    print(f"ratio, median of the {ROUNDS} pairs:      {statistics.median(ratios):8.2f} "
          f"(pairs: {', '.join(f'{r:.2f}' for r in ratios)})")
    not_modified = await in_thread(url, {**auth, "If-None-Match": etag})
    print(f"304 answers (If-None-Match):       {not_modified:8.0f} per second")


async def report_me(base: str, auth: dict[str, str]) -> None:
    """``/v1/me`` and ``/healthz`` alternating (after one short warm-up run of each)."""
    paths = ("/v1/me", "/healthz")
    rates: dict[str, list[float]] = {path: [] for path in paths}
    for path in paths:
        await in_thread(base + path, auth, 1)
    for _ in range(3):
        for path in paths:
            rates[path].append(await in_thread(base + path, auth))
    for path, label in zip(paths, ("repeated /v1/me:", "/healthz, for comparison:"),
                           strict=True):
        print(f"{label:<35}{statistics.median(rates[path]):8.0f} requests/s (runs: "
              f"{', '.join(f'{r:.0f}' for r in rates[path])})")


async def report_memory(bench: Served, http: aiohttp.ClientSession, base: str,
                        auth: dict[str, str]) -> None:
    caches = bench.app[READ_CACHES]
    before_stats = caches.stats()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await first_reads(http, base, auth, 10, 1000)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    held = caches.stats()["occurrences"]["held"] - before_stats["occurrences"]["held"]
    print(f"memory per cached event: {grown / held:.0f} bytes (occurrence, its rendered "
          f"fragment, its share of the whole answer and of the core's memos; {held} events "
          "in 10 new windows)")
    bounds = {name: stat["bound"] for name, stat in caches.stats().items()}
    print(f"cache bounds: indexed items {bounds['indexed']:,}, occurrences "
          f"{bounds['occurrences']:,}, fragments "
          f"{bounds['fragments']:,}, answers {bounds['answer_bytes'] // 2**20} MiB, "
          f"principal entries {MAX_ENTRIES:,}; in the core: occurrences made "
          f"{recurrence.OCCURRENCE_MEMO:,}, series starts {recurrence.MEMO_STARTS:,}; "
          f"decoded documents {codec.DECODED_BYTES // 2**20} MiB of text")


if __name__ == "__main__":
    asyncio.run(main())
