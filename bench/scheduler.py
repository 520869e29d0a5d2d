"""Benchmark: the background scheduler keeping 1,000 calendars fresh, with one instance
and then with two instances on one PostgreSQL database (DESIGN §13).

100 Graph mailboxes of 10 calendars each live in the Graph emulator, in a child process
(so that the CPU measured here is calproxy's). calproxy runs in this process: one app with
its scheduler; after its mirrors are warm the scheduler is watched for a few freshness
periods (upstream rounds counted at the emulator, sync lag sampled every second), then a
second instance joins on the same database and the pair is watched as long. Printed:
rounds per calendar per period (the target is at most 1, and no more with two instances
than with one), the sync lag (the age of the stalest mirror: about one period, since a
mirror is refreshed when it turns stale), and calproxy's CPU per round.

Run from the repository root:  .venv/bin/python bench/scheduler.py [--freshness 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer

MAILBOXES, CALENDARS = int(os.environ.get("BENCH_MAILBOXES", "100")), 10
CLIENT_ID, CLIENT_SECRET = "calproxy-test-client", "calproxy-test-secret"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _serve(port: int) -> None:
    from tests.fixtures.graph_emulator import MicrosoftCloud

    cloud = MicrosoftCloud(CLIENT_ID, CLIENT_SECRET)
    graph = cloud.graph
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for m in range(MAILBOXES):
        email = f"user{m}@acme.example"
        graph.add_mailbox(email)
        ids = [graph.mailbox(email).primary] + [
            graph.add_calendar(email, f"Project {n}") for n in range(CALENDARS - 1)]
        for n, calendar_id in enumerate(ids):
            graph.add_event(email, f"Meeting {n}", start, start + timedelta(hours=1),
                            calendar_id=calendar_id)

    async def rounds(_: web.Request) -> web.Response:
        count = sum(1 for paths in graph.mailbox_requests.values() for p in paths
                    if "/calendarView/delta" in p and "skiptoken" not in p.lower())
        return web.json_response({"rounds": count, "refusals": graph.concurrency_refusals,
                                  "max_in_flight": max(graph.max_mailbox_in_flight.values(),
                                                       default=0)})

    app = cloud.app()
    app.router.add_get("/_bench/rounds", rounds)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Statements:
    """Counts what an instance asks of the database (a SQLAlchemy event listener on its
    engine): statements (an executemany counts once), transactions, and connection
    checkouts (each one a pre-ping round trip). With ``BENCH_BREAKDOWN=1`` it also keeps
    the statements by their first words, to show where the round trips go."""

    def __init__(self) -> None:
        self.statements = self.transactions = self.checkouts = 0
        self.kinds: dict[str, int] = {}
        self.breakdown = os.environ.get("BENCH_BREAKDOWN") == "1"

    def listen(self, engine: object) -> None:
        from sqlalchemy import event

        sync_engine = engine.sync_engine  # type: ignore[attr-defined]
        event.listen(sync_engine, "before_cursor_execute", self._statement)
        event.listen(sync_engine, "begin", self._begin)
        event.listen(sync_engine.pool, "checkout", self._checkout)

    def _statement(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.statements += 1
        if self.breakdown:
            kind = " ".join(statement.split()[:6])[:90]
            self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def _begin(self, _conn: object) -> None:
        self.transactions += 1

    def _checkout(self, *_: object) -> None:
        self.checkouts += 1

    def snapshot(self) -> tuple[int, int, int, dict[str, int]]:
        return self.statements, self.transactions, self.checkouts, dict(self.kinds)


class Instance:
    def __init__(self, settings: object, schema: str) -> None:
        self.settings, self.schema = settings, schema
        self.counter = Statements()

    async def start(self) -> None:
        from proxy.http.app import create_app
        from proxy.http.keys import SCHEDULER
        from proxy.store.sql import open_store

        self.store = await open_store(self.settings, search_path=self.schema)  # type: ignore[arg-type]
        self.counter.listen(self.store.engine)
        self.app = create_app(self.settings, self.store, scheduler=True)  # type: ignore[arg-type]
        self.server = TestServer(self.app, host="127.0.0.1", port=self.settings.port)  # type: ignore[attr-defined]
        await self.server.start_server()
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.scheduler = self.app[SCHEDULER]

    async def stop(self) -> None:
        await self.server.close()


async def _count(http: aiohttp.ClientSession, base: str) -> dict[str, int]:
    async with http.get(base + "/_bench/rounds") as response:
        return dict(await response.json())


async def _connect(http: aiohttp.ClientSession, one: Instance) -> None:
    from proxy.store.records import Role

    account = await one.store.create_account("Acme", {})

    async def connect(m: int) -> None:
        user = await one.store.create_user(account.id, f"user{m}@acme.example", Role.MEMBER)
        token = await one.store.create_token(user.id)
        headers = {"Authorization": f"Bearer {token}"}
        async with http.post(one.url + "/v1/me/integrations", headers=headers,
                             json={"service": "graph"}) as response:
            body = await response.json()
        async with http.get(body["authorize_url"]) as response:
            assert response.status == 200, await response.text()
        [integration] = await one.store.list_integrations(user.id)
        for calendar in await one.store.list_calendars([integration.id]):
            await one.store.set_calendar_synced(calendar.id, True)

    for batch in range(0, MAILBOXES, 10):
        await asyncio.gather(*(connect(m) for m in range(batch, min(batch + 10, MAILBOXES))))


_LAG = """SELECT extract(epoch FROM now() - min(synced_at)),
                  percentile_cont(0.95) WITHIN GROUP
                    (ORDER BY extract(epoch FROM now() - synced_at))
           FROM {schema}.calendars WHERE synced"""


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def _watch(http: aiohttp.ClientSession, base: str, instances: list[Instance],
                 seconds: float, label: str, freshness: int, admin: asyncpg.Connection,
                 schema: str) -> None:
    """Watch the instances for ``seconds``; the sync lag is sampled every second from the
    database (the age of the stalest synced mirror, and the age 95 % of mirrors are under)."""
    before, cpu0, wall0 = await _count(http, base), time.process_time(), time.perf_counter()
    db0 = [i.counter.snapshot() for i in instances]
    lags: list[float] = []
    ages: list[float] = []
    while time.perf_counter() - wall0 < seconds:
        await asyncio.sleep(1.0)
        stalest, p95 = await admin.fetchrow(_LAG.format(schema=schema))
        lags.append(float(stalest))
        ages.append(float(p95))
    after, cpu = await _count(http, base), time.process_time() - cpu0
    db1 = [i.counter.snapshot() for i in instances]
    rounds = after["rounds"] - before["rounds"]
    per = max(rounds, 1)
    statements, transactions, checkouts = (
        sum(b[n] - a[n] for a, b in zip(db0, db1, strict=True)) for n in range(3))  # type: ignore[operator]
    periods = seconds / freshness
    print(flush=True)
    print(f"{label}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"(freshness {freshness} s, sync concurrency "
          f"{instances[0].settings.sync_concurrency} each): "  # type: ignore[attr-defined]
          f"{rounds} upstream rounds in {seconds:.0f} s = "
          f"{rounds / (MAILBOXES * CALENDARS) / periods:.2f} rounds per calendar per period\n"
          f"  sync lag (stalest mirror): max {max(lags):.1f} s, p95 {_p95(lags):.1f} s; "
          f"95 % of mirrors younger than {max(ages):.1f} s\n"
          f"  calproxy CPU {cpu:.1f} s = {1000 * cpu / per:.1f} ms per round; "
          f"max {after['max_in_flight']} requests per mailbox, {after['refusals']} refused\n"
          f"  database per round: {statements / per:.1f} statements in "
          f"{transactions / per:.1f} transactions ({checkouts / per:.1f} connection "
          f"checkouts)", flush=True)
    if instances[0].counter.breakdown:
        kinds: dict[str, int] = {}
        for a, b in zip(db0, db1, strict=True):
            for kind, n in b[3].items():
                kinds[kind] = kinds.get(kind, 0) + n - a[3].get(kind, 0)
        for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  {n / per:6.2f} per round  {kind}")


async def _bench(base: str, freshness: int, periods: int, concurrency: int) -> None:
    from proxy.config import Settings
    from tests.fixtures.graph_emulator import MicrosoftCloud

    schema = f"bench_scheduler_{secrets.token_hex(4)}"
    plain = PG_URL.replace("+asyncpg", "")
    admin = await asyncpg.connect(plain)
    await admin.execute(f"CREATE SCHEMA {schema}")
    instances: list[Instance] = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    await _count(http, base)
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            for _ in range(2):
                settings = Settings(
                    database_url=PG_URL, host="127.0.0.1", port=_free_port(),
                    secret_key="bench-secret", ms_client_id=CLIENT_ID,
                    ms_client_secret=CLIENT_SECRET, freshness_seconds=freshness,
                    sync_concurrency=concurrency,
                    **MicrosoftCloud.settings_for(base))
                instances.append(Instance(settings, schema))
            await instances[0].start()
            setup = time.perf_counter()
            await _connect(http, instances[0])
            print(f"set-up: {MAILBOXES} users connected through OAuth in "
                  f"{time.perf_counter() - setup:.1f} s", flush=True)
            warm = time.perf_counter()
            while (await _count(http, base))["rounds"] < MAILBOXES * CALENDARS:
                await asyncio.sleep(0.5)
            print(f"warm-up: {MAILBOXES * CALENDARS} calendars synced in "
                  f"{time.perf_counter() - warm:.1f} s")
            await asyncio.sleep(freshness)  # past the first refresh of everything
            await _watch(http, base, instances[:1], freshness * periods, "one instance",
                         freshness, admin, schema)
            await instances[1].start()
            await asyncio.sleep(freshness / 2)
            await _watch(http, base, instances, freshness * periods, "two instances",
                         freshness, admin, schema)
    finally:
        for instance in instances:
            if hasattr(instance, "server"):
                await instance.stop()
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--freshness", type=int, default=30)
    parser.add_argument("--periods", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32,
                        help="CALPROXY_SYNC_CONCURRENCY of each instance")
    args = parser.parse_args()
    port = _free_port()
    child = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,),
                                                         daemon=True)
    child.start()
    try:
        asyncio.run(_bench(f"http://127.0.0.1:{port}", args.freshness, args.periods,
                           args.concurrency))
    finally:
        child.terminate()
        child.join(5)


if __name__ == "__main__":
    main()
