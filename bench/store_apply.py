"""Benchmark: writing sync rounds of a 5,000-event calendar into the store.

Run from the repository root: ``.venv/bin/python bench/store_apply.py [--events N]
[--pg URL | --no-pg]``.

For SQLite (a temporary file) and PostgreSQL (a throw-away schema, default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``) it prints the wall time of: a full
round of N realistic events (attendees, zones, a few series with exceptions), the same
full round again (replacing every row), an incremental round of 100 changes and 100
removals, and one ``events_in_range`` over a month, each as wall time and CPU time (the
CPU figure is the steadier one on a busy machine). Goal: the full round well under a
second on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from proxy.config import Settings
from proxy.core.mirror import MirroredEvent, event_public_id
from proxy.core.model import (
    Attendee,
    Calendar,
    Event,
    Permissions,
    Person,
    Recurrence,
    Sensitivity,
    Service,
)
from proxy.store.records import CalendarRecord, IntegrationStatus, Role
from proxy.store.sql import SqlStore, open_store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ZONES = ("America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC")


def make_event(i: int, title: str = "") -> Event:
    start = T0 + timedelta(hours=7 * i)
    extra: dict[str, object] = {}
    if i % 50 == 0:
        extra["rrule"] = ("FREQ=WEEKLY;BYDAY=MO",)
    elif i % 50 == 1:
        extra["recurrence"] = Recurrence(f"p{i - 1}", start, is_exception=True)
    if i % 20 == 3:
        day = date(2026, 1, 5) + timedelta(days=i // 3)
        return Event(f"p{i}", "cal", Service.GRAPH, day, day + timedelta(days=1),
                     all_day=True, time_zone=ZONES[i % 4], title=title or f"Day {i}")
    return Event(
        f"p{i}", "cal", Service.GRAPH, start, start + timedelta(minutes=45),
        time_zone=ZONES[i % 4], title=title or f"Meeting {i}", description="Agenda " * 20,
        location="Room 4.01", sensitivity=Sensitivity.PRIVATE if i % 9 == 0 else
        Sensitivity.NORMAL, organizer=Person("Org", "org@example.com"),
        attendees=tuple(Attendee(f"P{k}", f"p{k}@example.com") for k in range(4)),
        ical_uid=f"uid-{i}@example.com", created=T0, updated=T0, **extra)  # type: ignore[arg-type]


def mirror(cal: CalendarRecord, event: Event) -> MirroredEvent:
    return MirroredEvent(event_public_id(cal.id, event.provider_id),
                         cal.id, cal.integration_id, event)


async def timed(label: str, action: Callable[[], Awaitable[object]]) -> None:
    """Print wall time and process CPU time (this process, driver threads included)."""
    began, cpu = time.perf_counter(), time.process_time()
    result = await action()
    wall, used = time.perf_counter() - began, time.process_time() - cpu
    rows = f"  ({len(result)} rows)" if isinstance(result, list) else ""
    print(f"  {label:<44} {1000 * wall:7.1f} ms wall {1000 * used:7.1f} ms CPU{rows}")


async def run(store: SqlStore, n: int) -> None:
    account = await store.create_account("Bench", {})
    user = await store.create_user(account.id, f"{secrets.token_hex(4)}@example.com",
                                   Role.MEMBER)
    integration = await store.create_integration(
        user.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions())
    (cal,) = await store.upsert_calendars(integration.id, [Calendar("cal", "C", True)], False)
    events = [mirror(cal, make_event(i)) for i in range(n)]
    changed = [mirror(cal, make_event(i, "Changed")) for i in range(0, n, n // 100 or 1)]
    removed = [f"p{i}" for i in range(1, n, n // 100 or 1)]
    now = datetime.now(UTC)
    await timed(f"full round, {n} new events", lambda: store.apply_event_sync(
        cal.id, events, [], "c1", now, full=True))
    await timed(f"full round, {n} events again", lambda: store.apply_event_sync(
        cal.id, events, [], "c2", now, full=True))
    await timed(f"incremental, {len(changed)} changed + {len(removed)} removed",
                lambda: store.apply_event_sync(cal.id, changed, removed, "c3", now, full=False))
    await timed("events_in_range, 31 days", lambda: store.events_in_range(
        [cal.id], T0, T0 + timedelta(days=31)))


async def bench_sqlite(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        store = await open_store(Settings(database_url=url, secret_key="bench"))
        print("SQLite (file, WAL)")
        try:
            await run(store, n)
        finally:
            await store.close()


async def bench_postgres(url: str, n: int) -> None:
    schema = f"store_bench_{secrets.token_hex(4)}"
    plain = url.replace("+asyncpg", "")
    admin = await asyncpg.connect(plain)
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        store = await open_store(Settings(database_url=url, secret_key="bench"),
                                 search_path=schema)
        print("PostgreSQL")
        try:
            await run(store, n)
        finally:
            await store.close()
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    asyncio.run(bench_sqlite(args.events))
    if not args.no_pg:
        asyncio.run(bench_postgres(args.pg, args.events))


if __name__ == "__main__":
    main()
