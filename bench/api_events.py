"""Read latency of the JSON API over a mirrored calendar (no upstream calls).

A calendar of 5,000 single events over a year plus 50 weekly series is synced once through
the in-memory provider; then ``/events`` over a 31-day and a 366-day window, ``/freebusy``
over 31 days, and a delegate's redacted view are each timed over real HTTP: the first read
of each (nothing cached for that window and caller) and the best of four repeats (the
read caches of ``proxy/cache``).

Run from the repository root: ``.venv/bin/python bench/api_events.py``.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.served import served
from proxy.core.model import Event, Sensitivity, Service
from proxy.providers.memory import MemoryBackend
from proxy.store.records import Delegation, Role

SINGLES, SERIES = 5000, 50


def seed(backend: MemoryBackend, key: str) -> None:
    rng = random.Random(3)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for n in range(SINGLES):
        start = base + timedelta(hours=rng.randrange(-24 * 29, 24 * 360))
        backend.put_event(key, Event(
            f"e{n}", "primary", Service.GRAPH, start, start + timedelta(minutes=45),
            title=f"Meeting {n}", description="Agenda " * 20, location="Room 1",
            sensitivity=Sensitivity.PRIVATE if n % 7 == 0 else Sensitivity.NORMAL))
    for n in range(SERIES):
        start = base + timedelta(days=n % 7, hours=8 + n % 9)
        backend.put_event(key, Event(f"s{n}", "primary", Service.GRAPH, start,
                                     start + timedelta(minutes=30), title=f"Series {n}",
                                     rrule=("FREQ=WEEKLY",)))


async def best(http: aiohttp.ClientSession, url: str, token: str) -> tuple[float, float, int]:
    """The first read of ``url`` (nothing cached for it) and the best of four repeats."""
    times, size = [], 0
    for _ in range(5):
        began = time.perf_counter()
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            body = await response.read()
            assert response.status == 200, body[:200]
        times.append(time.perf_counter() - began)
        size = len(body)
    return times[0], min(times[1:]), size


async def main() -> None:
    async with served() as bench:
        delegate = await bench.store.create_user(bench.owner.account_id,
                                                 "assistant@example.com", Role.MEMBER)
        await bench.store.put_delegation(Delegation(bench.owner.id, delegate.id, True, False))
        seed(bench.backend, bench.mailbox)
        tokens = {"exec": await bench.store.create_token(bench.owner.id),
                  "assistant": await bench.store.create_token(delegate.id)}
        await report(f"{bench.url}/v1/users/exec@example.com", tokens)


async def report(base: str, tokens: dict[str, str]) -> None:
    now = datetime.now(UTC).replace(microsecond=0)

    def window(days: int) -> str:
        end = now + timedelta(days=days)
        return (f"start={now.isoformat().replace('+00:00', 'Z')}"
                f"&end={end.isoformat().replace('+00:00', 'Z')}")

    async with aiohttp.ClientSession() as http:
        began = time.perf_counter()
        await best(http, f"{base}/events?{window(1)}", tokens["exec"])
        print(f"first read (initial sync of {SINGLES + SERIES} events): "
              f"{(time.perf_counter() - began) * 1000:8.1f} ms")
        cases: list[tuple[str, str, Any]] = [
            ("/events, 31 days, owner", f"{base}/events?{window(31)}", "exec"),
            ("/events, 31 days, delegate", f"{base}/events?{window(31)}", "assistant"),
            ("/events, 366 days, owner", f"{base}/events?{window(366)}", "exec"),
            ("/freebusy, 31 days", f"{base}/freebusy?{window(31)}", "assistant"),
        ]
        for label, url, who in cases:
            first, again, size = await best(http, url, tokens[who])
            print(f"{label:<28} first {first * 1000:7.1f} ms, repeated {again * 1000:6.1f} ms"
                  f"  ({size / 1000:.0f} kB)")


if __name__ == "__main__":
    asyncio.run(main())
