"""Benchmark: Graph change notifications versus polling (DESIGN §11 "In", §13).

Two calproxy instances run side by side in one process, each over its own Graph emulator
(real msgraph-sdk provider, real HTTP on loopback, SQLite):

* **push**: ``CALPROXY_PUSH=on``, freshness one hour; the emulator calls calproxy's hook
  back on every change;
* **polling**: push off, ``CALPROXY_FRESHNESS_SECONDS=60`` (the default).

Measured:

1. notification-to-visible latency on the push instance: for each of ``--changes``
   changes, the time from the emulator's change (a seeding call) to the change being
   returned by ``GET /events`` (polled every 25 ms; that read is served from the mirror and
   makes no upstream request); median and p95;
2. upstream requests per hour for one calendar: both instances see the same changes (one
   every ``--every`` seconds) for ``--seconds``; the emulators count every request calproxy
   made, scaled to an hour. The push figure includes the subscription's upkeep (create,
   handshake-driven sync); its hourly safety-net poll (freshness one hour) is one round
   more per hour, added and shown separately.

Run from the repository root: ``.venv/bin/python bench/push.py [--changes 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.push.graph_world import EXEC, World, eventually, graph_world


async def _visible(world: World, title: str) -> float:
    """Seconds from now until ``title`` is in the owner's events."""
    async def there() -> bool:
        return title in await world.titles()

    return await eventually(there, timeout=30, step=0.025)


async def _subscribed(world: World) -> None:
    primary = world.graph.mailbox(EXEC).primary

    async def made() -> bool:
        return bool(world.subs.for_calendar(EXEC, primary))

    await eventually(made, timeout=30)


async def latency(world: World, changes: int) -> list[float]:
    event_id = world.add("v0")
    await _visible(world, "v0")
    out: list[float] = []
    for n in range(1, changes + 1):
        await asyncio.sleep(0.3)
        started = time.monotonic()
        world.graph.update_event(EXEC, event_id, subject=f"v{n}")
        await _visible(world, f"v{n}")
        out.append(time.monotonic() - started)
    return out


async def traffic(worlds: list[World], seconds: float, every: float) -> list[int]:
    """Upstream requests each world's calproxy made while the same changes happened."""
    ids = [w.add("traffic 0") for w in worlds]
    await asyncio.sleep(2.0)  # settle: the first notifications and reads are done
    before = [w.upstream_requests() for w in worlds]
    started, n = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        n += 1
        for world, event_id in zip(worlds, ids, strict=True):
            world.graph.update_event(EXEC, event_id, subject=f"traffic {n}")
        await asyncio.sleep(every)
    return [w.upstream_requests() - b for w, b in zip(worlds, before, strict=True)]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with graph_world(f"sqlite+aiosqlite:///{tmp}/push.sqlite3") as push, \
                graph_world(f"sqlite+aiosqlite:///{tmp}/poll.sqlite3", push="off",
                            freshness_seconds=60) as poll:
            for world in (push, poll):
                await world.connect()
                await world.titles()
            await _subscribed(push)
            figures = sorted(await latency(push, args.changes))
            p95 = figures[max(0, round(0.95 * len(figures)) - 1)]
            print(f"push latency, change to visible in GET /events over {len(figures)} "
                  f"changes: median {statistics.median(figures) * 1000:.0f} ms, "
                  f"p95 {p95 * 1000:.0f} ms, max {figures[-1] * 1000:.0f} ms")
            counts = await traffic([push, poll], args.seconds, args.every)
            scale = 3600 / args.seconds
            round_cost = _round_cost(poll)
            print(f"upstream requests for one calendar, one change every {args.every:g} s, "
                  f"measured over {args.seconds:g} s and scaled to an hour:")
            print(f"  push (freshness 3600 s): {counts[0] * scale:.0f}/h "
                  f"(+ {round_cost} for the hourly safety-net poll)")
            print(f"  polling (freshness 60 s): {counts[1] * scale:.0f}/h")
            idle = await traffic([push, poll], args.seconds, args.seconds * 2)
            print(f"  idle calendar (one change in {args.seconds:g} s): push "
                  f"{idle[0] * scale:.0f}/h, polling {idle[1] * scale:.0f}/h")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} cores)")


def _round_cost(world: World) -> int:
    """Requests in one incremental round with no changes (a delta page)."""
    return 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
