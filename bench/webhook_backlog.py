"""Benchmark: how fast a webhook's backlog drains once its receiver is back (DESIGN §11).

A live calproxy (memory provider, SQLite, real HTTP on loopback) and a receiver that
answers 503 while ``--entries`` changes of the executive's calendar are logged (each one
synced and tracked on its own), then 204. Measured: the time from the receiver's recovery
to the last entry delivered, and the rate. Before a delivered entry started the next round
at once, the deliverer looked again only every second, so a backlog drained at one entry a
second.

Run from the repository root: ``.venv/bin/python bench/webhook_backlog.py [--entries 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.notifications.routes import DELIVERER
from tests.api.conftest import running, seed_world
from tests.api.helpers import at, events_of, seed


async def main(entries: int) -> None:
    received: list[float] = []
    down = True

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        if down:
            return web.Response(status=503)
        received.append(time.monotonic())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    receiver = TestServer(app, host="127.0.0.1")
    await receiver.start_server()
    with tempfile.TemporaryDirectory() as tmp:
        async with running(f"sqlite+aiosqlite:///{Path(tmp) / 'b.sqlite3'}",
                           webhook_allow_http=True,
                           webhook_allowed_hosts=("127.0.0.1",)) as live:
            world = await seed_world(live)
            assert world.app is not None
            world.app[DELIVERER].retry_delays = (0.5,) * 10_000
            await events_of(world, "exec")
            status, body, _ = await world.call("exec", "POST", "/v1/me/webhooks", json={
                "url": f"http://127.0.0.1:{receiver.port}/hook"})
            assert status == 201, body
            for n in range(entries):
                seed(world, title=f"Change {n}", start=at(1 + n % 20, 8 + n % 9))
                await events_of(world, "exec")
                await asyncio.sleep(0.4)  # tracked on its own (not coalesced)
            owner = world.ids["exec"]
            logged = len(await world.store.changes_after(owner, "full", 0, 10_000))
            await asyncio.sleep(1.0)  # a failed attempt or two; the next is due soon
            down = False
            back = time.monotonic()
            while len(received) < logged and time.monotonic() - back < 120:
                await asyncio.sleep(0.02)
    await receiver.close()
    took = (received[-1] - back) if received else float("nan")
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores, shared)")
    print(f"backlog: {logged} entries; delivered {len(received)} in {took:.2f} s "
          f"after the receiver was back ({len(received) / took:.1f} entries/s; "
          f"one a second before)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=30)
    asyncio.run(main(parser.parse_args().entries))
