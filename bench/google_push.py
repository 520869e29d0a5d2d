"""Benchmark: Google push channels (DESIGN §11 "In", §13).

calproxy (real GoogleProvider, SQLite, push on, freshness one hour) and the Google emulator
run in one process on loopback; the emulator calls ``/hooks/google`` back on every change.

Measured:

1. change-to-visible latency: for each of ``--changes`` changes (a seeding call in the
   emulator), the time until ``GET /events`` returns it (polled every 25 ms; that read is
   served from the mirror and makes no Google request); median, p95 and max;
2. Google requests per change (``events.list`` and everything else calproxy sent, from
   the emulator's own count) for single changes and for bursts of ``--burst`` changes made
   at once.

The figures include the 0.5 s a nudge waits for the rest of its burst. Run from the
repository root: ``.venv/bin/python bench/google_push.py [--changes 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.api.helpers import NOW
from tests.push.google_world import EVENTS, EXEC, GoogleWorld, google_world, until


async def _visible(world: GoogleWorld, title: str) -> float:
    async def there() -> bool:
        return title in await world.titles()

    began = time.monotonic()
    while not await there():
        if time.monotonic() - began > 30:
            raise AssertionError(f"{title} not visible within 30 s")
        await asyncio.sleep(0.025)
    return time.monotonic() - began


async def latency(world: GoogleWorld, changes: int) -> tuple[list[float], int]:
    """Seconds per change, and the Google requests they cost."""
    event_id = world.add("v0")
    await _visible(world, "v0")
    await asyncio.sleep(1.0)
    before = world.google.api_requests
    out: list[float] = []
    for n in range(1, changes + 1):
        await asyncio.sleep(0.3)
        world.google.update_event(EXEC, event_id, summary=f"v{n}")
        out.append(await _visible(world, f"v{n}"))
    await asyncio.sleep(1.0)
    return out, world.google.api_requests - before


async def bursts(world: GoogleWorld, count: int, size: int) -> tuple[int, int]:
    """Google requests (``events.list``, all) for ``count`` bursts of ``size`` changes."""
    lists, before = world.google.requests[EVENTS], world.google.api_requests
    paths = dict(world.google.requests)
    for n in range(count):
        for k in range(size):
            start = NOW + timedelta(days=3, minutes=30 * k)
            world.google.add_simple_event(EXEC, f"b{n}-{k}", start,
                                          start + timedelta(minutes=30))
        await _visible(world, f"b{n}-{size - 1}")
        await asyncio.sleep(1.5)  # a second round would have started by now
    others = {p: n - paths.get(p, 0) for p, n in world.google.requests.items()
              if p != EVENTS and n != paths.get(p, 0)}
    if others:
        print(f"  other requests during the bursts: {others}")
    return world.google.requests[EVENTS] - lists, world.google.api_requests - before


async def main(args: argparse.Namespace) -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        async with google_world(f"sqlite+aiosqlite:///{tmp}/push.sqlite3") as world:
            await world.connect()
            await until(world._channels_match)
            figures, requests = await latency(world, args.changes)
            ordered = sorted(figures)
            p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
            print(f"change to visible in GET /events over {len(figures)} changes: "
                  f"median {statistics.median(figures) * 1000:.0f} ms, "
                  f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")
            print(f"Google requests per single change: {requests / len(figures):.2f}")
            lists, burst = await bursts(world, args.bursts, args.burst)
            print(f"Google requests per burst of {args.burst} changes: "
                  f"{burst / args.bursts:.2f}, of which events.list {lists / args.bursts:.2f} "
                  f"(over {args.bursts} bursts)")
    load_after = os.getloadavg()
    print(f"load average before {' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--bursts", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
