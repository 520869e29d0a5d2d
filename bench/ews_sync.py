"""Benchmark the EWS provider against the SOAP emulator: a 2,000-item calendar.

Prints the full sync's wall time, calproxy's CPU time and SOAP requests, its CPU per item
(goal: at most 0.3 ms per event), then the same for an incremental sync of 10 changes
(goal: at most 2 SOAP requests plus one GetItem batch). The emulator runs in a child
process so that the CPU time measured here is calproxy's (parsing in worker threads
included), not the emulator's.

Run from the repository root: ``.venv/bin/python bench/ews_sync.py``.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

USER, PASSWORD = "bench@example.com", "bench"
SINGLES, SERIES, PER_SERIES = 1980, 20, 10


def _seed(emu: Any) -> list[str]:
    emu.add_user(USER, PASSWORD)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
    ids = []
    for n in range(SINGLES):
        start = base + timedelta(hours=4 * n)
        ids.append(emu.add_event(USER, f"Event {n}", start, start + timedelta(minutes=45),
                                 time_zone="W. Europe Standard Time",
                                 body="Join https://acme.zoom.us/j/42 " + "x" * 200,
                                 attendees=[("Ann", "ann@example.com", "required", "Accept")]))
    for n in range(SERIES):
        start = base + timedelta(days=n, hours=1)
        emu.add_series(USER, f"Series {n}", start, start + timedelta(minutes=30),
                       days=(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")[n % 5],),
                       count=PER_SERIES, time_zone="Pacific Standard Time")
    return ids


def _serve(pipe: Pipe) -> None:
    from aiohttp import web

    from tests.fixtures.ews_emulator import PATH, EwsEmulator

    async def main() -> None:
        emu = EwsEmulator()
        ids = _seed(emu)
        runner = web.AppRunner(emu.app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        pipe.send(f"http://127.0.0.1:{port}{PATH}")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command == "calls":
                pipe.send(dict(emu.calls))
                emu.calls.clear()
            elif command == "change":
                for item_id in ids[100:108]:
                    emu.rename(USER, item_id, "renamed")
                emu.delete(USER, ids[200])
                start = datetime.now(UTC) + timedelta(days=3)
                emu.add_event(USER, "new", start, start + timedelta(hours=1))
                pipe.send("ok")
            else:
                break
        await runner.cleanup()

    asyncio.run(main())


async def _bench(url: str, pipe: Pipe) -> None:
    import aiohttp

    from proxy.config import Settings
    from proxy.providers.base import Connection, Window
    from proxy.providers.ews import EwsProvider

    now = datetime.now(UTC)
    window = Window(now - timedelta(days=30), now + timedelta(days=365))
    async with aiohttp.ClientSession() as http:
        provider = EwsProvider(Connection(
            Settings(ews_allow_http=True), http,
            {"ews_url": url, "username": USER, "password": PASSWORD}, mailbox_key="bench"))
        await provider.check()
        calendar = (await provider.list_calendars())[0].provider_id
        pipe.send("calls")
        pipe.recv()
        wall, cpu = time.perf_counter(), time.process_time()
        page = await provider.sync_events(calendar, None, window)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        pipe.send("calls")
        calls = pipe.recv()
        print(f"full sync: {len(page.changed)} events in {wall:.2f} s wall, "
              f"{cpu:.2f} s calproxy CPU, {sum(calls.values())} SOAP requests {calls}")
        print(f"full sync CPU per item: {cpu * 1000 / len(page.changed):.3f} ms per event "
              f"delivered, {cpu * 1000 / (SINGLES + SERIES):.3f} ms per stored item "
              f"(goal: <= 0.3 ms per event)")
        pipe.send("change")
        pipe.recv()
        wall, cpu = time.perf_counter(), time.process_time()
        assert page.next_cursor is not None
        delta = await provider.sync_events(calendar, page.next_cursor, window)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        pipe.send("calls")
        calls = pipe.recv()
        print(f"10 changes: {len(delta.changed)} changed, {len(delta.removed)} removed in "
              f"{wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU, "
              f"{sum(calls.values())} SOAP requests {calls}")
        await provider.close()


def main() -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    ours, theirs = mp.Pipe()
    child = mp.get_context("spawn").Process(target=_serve, args=(theirs,), daemon=True)
    child.start()
    try:
        asyncio.run(_bench(ours.recv(), ours))
    finally:
        ours.send("stop")
        child.join(10)


if __name__ == "__main__":
    main()
