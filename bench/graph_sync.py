"""Benchmark: a full Graph sync of a 5,000-event calendar, then a delta of 10 changes.

The emulator runs in a child process so that the CPU time measured here is calproxy's
alone (provider, msgraph-sdk request building and middleware, httpx, JSON, normalization).
Run from the repository root:  .venv/bin/python bench/graph_sync.py [--events 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

EMAIL = "bench@contoso.com"
ZONES = ("W. Europe Standard Time", "Pacific Standard Time", "UTC", "Tokyo Standard Time")


def _serve(port: int, count: int) -> None:
    from tests.fixtures.graph_emulator import MicrosoftCloud

    cloud = MicrosoftCloud()
    graph = cloud.graph
    graph.add_mailbox(EMAIL, "Bench User")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=25)
    ids = []
    for n in range(count):
        at = start + timedelta(minutes=100 * n)
        ids.append(graph.add_event(
            EMAIL, f"Meeting {n}", at, at + timedelta(minutes=45), ZONES[n % len(ZONES)],
            sensitivity=("normal", "private")[n % 2],
            body={"contentType": "html", "content": f"<p>Agenda {n}</p>"},
            location={"displayName": f"Room {n % 40}"},
            attendees=[{"type": "required", "status": {"response": "accepted", "time": ""},
                        "emailAddress": {"name": "Ann", "address": "ann@contoso.com"}}]))

    async def change(request: web.Request) -> web.Response:
        n = int(request.query.get("n", "10"))
        for event_id in ids[:n // 2]:
            graph.update_event(EMAIL, event_id, subject="changed")
        for event_id in ids[-(n - n // 2):]:
            graph.delete_event(EMAIL, event_id)
        return web.Response(text="ok")

    app = cloud.app()
    app.router.add_post("/_bench/change", change)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_up(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(200):
        try:
            async with http.get(base + "/v1.0/me"):
                return
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the emulator did not start")


async def _round(provider: object, calendar_id: str, cursor: str | None) -> tuple[int, str]:
    from proxy.providers.base import Window

    now = datetime.now(UTC)
    window = Window(now - timedelta(days=30), now + timedelta(days=365))
    seen = 0
    while True:
        page = await provider.sync_events(calendar_id, cursor, window)  # type: ignore[attr-defined]
        seen += len(page.changed) + len(page.removed)
        cursor = page.next_cursor
        if page.done:
            assert cursor is not None
            return seen, cursor


async def _bench(base: str) -> None:
    from proxy.config import Settings
    from proxy.providers.base import Connection
    from proxy.providers.graph import GraphProvider
    from tests.fixtures.graph_emulator import MicrosoftCloud
    from tests.fixtures.ms_identity import CodeFlowTokens

    settings = Settings(**MicrosoftCloud.settings_for(base))
    async with aiohttp.ClientSession() as http:
        await _wait_up(http, base)
        tokens = CodeFlowTokens(http, settings.ms_login_url, EMAIL,
                                "offline_access User.Read Calendars.Read")
        await tokens.connect()
        provider = GraphProvider(Connection(settings, http, tokens=tokens, mailbox_key=EMAIL))
        calendar_id = (await provider.list_calendars())[0].provider_id
        requests0, wall0, cpu0 = provider.requests, time.perf_counter(), time.process_time()
        seen, cursor = await _round(provider, calendar_id, None)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        print(f"full sync: {seen} events in {wall:.3f} s wall, {cpu:.3f} s calproxy CPU, "
              f"{provider.requests - requests0} upstream requests")
        async with http.post(base + "/_bench/change", params={"n": "10"}):
            pass
        requests0, wall0, cpu0 = provider.requests, time.perf_counter(), time.process_time()
        seen, _ = await _round(provider, calendar_id, cursor)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        print(f"delta: {seen} changes in {wall:.3f} s wall, {cpu:.3f} s calproxy CPU, "
              f"{provider.requests - requests0} upstream requests")
        await provider.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    port = _free_port()
    child = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(port, args.events), daemon=True)
    child.start()
    try:
        asyncio.run(_bench(f"http://127.0.0.1:{port}"))
    finally:
        child.terminate()
        child.join(5)


if __name__ == "__main__":
    main()
