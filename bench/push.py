"""Benchmark: Graph change notifications versus polling (DESIGN §11 "In", §13).

Five calproxy instances run side by side in one process, each over its own Graph
emulator (real msgraph-sdk provider, real HTTP on loopback, SQLite), three and two:

* **push**: ``CALPROXY_PUSH=on``, freshness one hour; the emulator calls calproxy's hook
  back on every change;
* **polling**: push off, ``CALPROXY_FRESHNESS_SECONDS=60`` (the default).

Measured:

1. notification-to-visible latency on a push instance: for each of ``--changes`` changes,
   the time from the emulator's change (a seeding call, which queues the notification) to
   the change being returned by ``GET /events`` (polled every 25 ms; those reads are served
   from the mirror and make no upstream request); median and p95; once with the changes
   further apart than ``CALPROXY_PUSH_MIN_GAP_SECONDS`` and once 0.3 s apart, where the
   gap holds a round back;
2. upstream requests per hour for one calendar: every request calproxy made, as counted
   by its emulator over ``--seconds`` and scaled to an hour, for a busy calendar (one
   change every ``--every`` seconds), a quiet one (one change in the period), and a very
   busy one on push (a change every ``--busy-every`` seconds: the minimum gap caps its
   rounds), push and polling measured at the same time. The push instances' hourly
   safety-net poll falls outside a short period; its cost (one round) is printed beside.

Run from the repository root: ``.venv/bin/python bench/push.py [--changes 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


async def latency(world: World, changes: int, pause: float) -> list[float]:
    """Seconds from each of ``changes`` upstream changes to its showing in reads, the next
    change made ``pause`` seconds after the last one showed."""
    event_id = world.add("v0")
    await _visible(world, "v0")
    out: list[float] = []
    for n in range(1, changes + 1):
        await asyncio.sleep(pause)
        started = time.monotonic()
        world.graph.update_event(EXEC, event_id, subject=f"v{n}")
        await _visible(world, f"v{n}")
        out.append(time.monotonic() - started)
    return out


def summary(figures: list[float]) -> str:
    figures = sorted(figures)
    p95 = figures[max(0, round(0.95 * len(figures)) - 1)]
    return (f"median {statistics.median(figures) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {figures[-1] * 1000:.0f} ms")


async def traffic(worlds: list[World], seconds: float,
                  every: list[float]) -> list[tuple[int, int]]:
    """Upstream requests (for the calendar, and all) each world's calproxy made over
    ``seconds`` while its calendar changed once every ``every[i]`` seconds (all worlds
    measured at the same time)."""
    ids = [w.add("traffic 0") for w in worlds]
    await asyncio.sleep(3.0)  # settle: the first notifications and rounds are done
    before = [(w.upstream_requests(False), w.upstream_requests()) for w in worlds]
    started = time.monotonic()
    due = [started] * len(worlds)
    changes = [0] * len(worlds)
    while time.monotonic() - started < seconds:
        for i, (world, event_id) in enumerate(zip(worlds, ids, strict=True)):
            if time.monotonic() >= due[i]:
                changes[i] += 1
                world.graph.update_event(EXEC, event_id, subject=f"traffic {changes[i]}")
                due[i] += every[i]
        await asyncio.sleep(0.05)
    return [(w.upstream_requests(False) - b[0], w.upstream_requests() - b[1])
            for w, b in zip(worlds, before, strict=True)]


def deltas(world: World) -> int:
    return sum("calendarView/delta" in path for _, path in world.graph.requests)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with contextlib.AsyncExitStack() as stack:
            worlds = [await stack.enter_async_context(graph_world(
                f"sqlite+aiosqlite:///{tmp}/{n}.sqlite3", **overrides))
                for n, overrides in enumerate([{}, POLL, {}, POLL, {}])]
            for world in worlds:
                await world.connect()
                await world.titles()
            for world in worlds[::2]:
                await _subscribed(world)
            gap = worlds[0].live.settings.push_min_gap_seconds
            quiet_figures = await latency(worlds[0], args.changes, gap + 0.5)
            print(f"push latency, change upstream to visible in GET /events, over "
                  f"{len(quiet_figures)} changes {gap + 0.5:g} s apart (longer than the "
                  f"{gap:g} s minimum gap): {summary(quiet_figures)}")
            busy_figures = await latency(worlds[0], args.changes, 0.3)
            print(f"  the same with each change 0.3 s after the last one showed (inside "
                  f"the gap): {summary(busy_figures)}")
            quiet = args.seconds
            poll_deltas = deltas(worlds[1])
            counts = await traffic(worlds, args.seconds,
                                   [args.every, args.every, quiet, quiet, args.busy_every])
            rounds = deltas(worlds[1]) - poll_deltas
            scale = 3600 / args.seconds
            print(f"upstream requests per hour for one calendar (measured over "
                  f"{args.seconds:g} s, scaled; the instances side by side; in brackets "
                  f"with the mailbox's contacts sync, which push does not cover):")
            for label, push, poll in (
                    (f"busy, one change every {args.every:g} s", counts[0], counts[1]),
                    (f"quiet, one change in {quiet:g} s", counts[2], counts[3]),
                    (f"very busy, one change every {args.busy_every:g} s", counts[4],
                     counts[1])):
                print(f"  {label}: push {push[0] * scale:.0f}/h ({push[1] * scale:.0f}), "
                      f"polling at 60 s freshness {poll[0] * scale:.0f}/h "
                      f"({poll[1] * scale:.0f})")
            per_round = counts[1][0] / rounds if rounds else float("nan")
            print(f"  push also polls once an hour as the safety net (about {per_round:.0f} "
                  f"calendar request per round) and renews its subscription about weekly")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} cores)")


POLL = {"push": "off", "freshness_seconds": 60}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--busy-every", type=float, default=2.0)
    asyncio.run(main(parser.parse_args()))
