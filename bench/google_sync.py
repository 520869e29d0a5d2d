"""Benchmark: Google full and incremental sync of a 5,000-event calendar.

Run from the repository root: ``.venv/bin/python bench/google_sync.py [--events N]``.

The emulator (tests/fixtures/google_emulator.py) runs in a child process so that the
CPU time measured here is calproxy's alone (request building, aiohttp, JSON parsing,
normalization). Prints the full sync's wall time, CPU time and upstream requests, then
the same for an incremental round after 10 upstream changes. Goals: full sync under 1 s
of calproxy CPU; 10 changes in at most 2 upstream requests.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

from proxy.config import Settings
from proxy.providers.base import Connection, Window
from proxy.providers.google import GoogleProvider
from tests.fixtures.google_emulator import GoogleEmulator
from tests.fixtures.google_harness import CodeFlowTokens

EMAIL = "exec@example.com"


def seed(emulator: GoogleEmulator, count: int) -> list[str]:
    """``count`` realistic events over the next year (attendees, links, private ones)."""
    emulator.add_user(EMAIL, "Erin Exec", time_zone="America/New_York")
    rng = random.Random(7)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    ids = []
    for i in range(count):
        start = base + timedelta(hours=rng.randrange(-24 * 25, 24 * 360))
        extra: dict[str, Any] = {
            "description": "Agenda: review numbers, decide next steps. " * 3,
            "location": "Room 4.12" if i % 3 else "https://example.zoom.us/j/123456789",
            "attendees": [{"email": f"p{j}@example.com", "displayName": f"Person {j}",
                           "responseStatus": "accepted"} for j in range(i % 5)],
        }
        if i % 7 == 0:
            extra["visibility"] = "private"
        if i % 11 == 0:
            extra["hangoutLink"] = "https://meet.google.com/abc-defg-hij"
        ids.append(emulator.add_simple_event(
            EMAIL, f"Meeting {i}", start, start + timedelta(minutes=30),
            time_zone="America/New_York", **extra))
    return ids


def serve(count: int, pipe: Any) -> None:
    """Child process: seed, serve on a free port, apply 10 changes when asked."""
    emulator = GoogleEmulator()
    ids = seed(emulator, count)

    async def change(_: web.Request) -> web.Response:
        start = datetime.now(UTC) + timedelta(days=3)
        for event_id in ids[:5]:
            emulator.update_event(EMAIL, event_id, summary="Moved meeting")
        for i in range(3):
            emulator.add_simple_event(EMAIL, f"New {i}", start, start + timedelta(hours=1))
        for event_id in ids[5:7]:
            emulator.delete_event(EMAIL, event_id)
        return web.Response(text="ok")

    async def main() -> None:
        app = emulator.app()
        app.router.add_post("/_bench/change", change)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        pipe.send(port)
        await asyncio.Event().wait()

    asyncio.run(main())


async def sync_round(provider: GoogleProvider, cursor: str | None,
                     window: Window) -> tuple[int, str, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    seen = 0
    while True:
        page = await provider.sync_events(EMAIL, cursor, window)
        seen += len(page.changed) + len(page.removed)
        cursor = page.next_cursor
        if page.done:
            assert cursor is not None
            return seen, cursor, time.perf_counter() - wall, time.process_time() - cpu


async def run(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    settings = Settings(**GoogleEmulator.settings_overrides(base))
    now = datetime.now(UTC)
    window = Window(now - timedelta(days=30), now + timedelta(days=365))
    async with aiohttp.ClientSession() as http:
        tokens = CodeFlowTokens(http, settings, EMAIL)
        await tokens.authorize()
        provider = GoogleProvider(Connection(settings, http, tokens=tokens, mailbox_key=EMAIL))
        await provider.list_calendars()  # warm the discovery-built services and zones
        before = provider.requests
        seen, cursor, wall, cpu = await sync_round(provider, None, window)
        print(f"full sync: {seen} events in {wall:.3f} s wall, {cpu:.3f} s calproxy CPU, "
              f"{provider.requests - before} upstream requests")
        async with http.post(f"{base}/_bench/change") as response:
            assert response.status == 200
        before = provider.requests
        seen, cursor, wall, cpu = await sync_round(provider, cursor, window)
        print(f"incremental sync of 10 changes: {seen} items in {wall:.3f} s wall, "
              f"{cpu:.3f} s calproxy CPU, {provider.requests - before} upstream requests")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.events, child), daemon=True)
    server.start()
    try:
        port = parent.recv()
        asyncio.run(run(port))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
