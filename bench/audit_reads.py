"""What the audit trail costs a read.

Over HTTP, side by side over keep-alive: a delegate who may see private events (each read
passes 60 private events through the trail: recorded the first time, then deduplicated for
a minute) against a delegate who may not (nothing recorded; a smaller, redacted answer).
Rounds alternate the two callers so that machine noise hits both alike.

In process: what recording costs on the request path (µs to queue one new record), and
how fast the background flusher writes batches into SQLite (records per second).

Run from the repository root: ``.venv/bin/python bench/audit_reads.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.served import served
from proxy.core.model import Event, Sensitivity, Service
from proxy.operations.audit import AuditTrail
from proxy.store.records import Delegation, Role, User
from proxy.store.sql import SqlStore

EVENTS, PRIVATE_EVERY, READS, ROUNDS = 300, 5, 50, 6


async def rate(http: aiohttp.ClientSession, url: str, token: str) -> float:
    """Requests per second of READS sequential reads."""
    began = time.perf_counter()
    for _ in range(READS):
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            await response.read()
            assert response.status == 200
    return READS / (time.perf_counter() - began)


async def main() -> None:
    async with served() as bench:
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        for n in range(EVENTS):
            start = base + timedelta(hours=n)
            bench.backend.put_event(bench.mailbox, Event(
                f"e{n}", "primary", Service.GRAPH, start, start + timedelta(minutes=30),
                title=f"Meeting {n}", sensitivity=Sensitivity.PRIVATE
                if n % PRIVATE_EVERY == 0 else Sensitivity.NORMAL))
        tokens = {}
        for name, sees_private in (("chief", True), ("assistant", False)):
            user = await bench.store.create_user(bench.owner.account_id,
                                                 f"{name}@example.com", Role.MEMBER)
            await bench.store.put_delegation(Delegation(bench.owner.id, user.id, True,
                                                        sees_private))
            tokens[name] = await bench.store.create_token(user.id)
        end = base + timedelta(hours=EVENTS + 1)
        url = (f"{bench.url}/v1/users/{bench.owner.email}/events?start="
               f"{base.isoformat().replace('+00:00', 'Z')}&end="
               f"{end.isoformat().replace('+00:00', 'Z')}")
        rates: dict[str, list[float]] = {"chief": [], "assistant": []}
        async with aiohttp.ClientSession() as http:
            await rate(http, url, tokens["chief"])  # first sync, caches warm
            for _ in range(ROUNDS):
                for who in ("chief", "assistant"):
                    rates[who].append(await rate(http, url, tokens[who]))
            await asyncio.sleep(1)  # let the flusher finish
        recorded = len(await bench.store.list_audit(base - timedelta(days=1),
                                                    owner_id=bench.owner.id, limit=10**6))
        audited, plain = (statistics.median(rates[w]) for w in ("chief", "assistant"))
        print(f"delegate with private access ({EVENTS // PRIVATE_EVERY} private events "
              f"through the trail per read): {audited:7.1f} req/s")
        print(f"delegate without it (nothing recorded):                          "
              f"{plain:7.1f} req/s")
        print(f"ratio (audited / plain): {audited / plain:.2f}; "
              f"records written: {recorded}")
        await in_process(bench.store, bench.owner)


async def in_process(store: SqlStore, owner: User) -> None:
    trail = AuditTrail(store, retention_days=90)
    count = 20_000
    began = time.perf_counter()
    for n in range(count):
        trail.record("event.read_private", owner, owner, f"event-{n}")
    queued = (time.perf_counter() - began) / count
    began = time.perf_counter()
    await trail.flush()
    flushed = count / (time.perf_counter() - began)
    print(f"queueing one record: {queued * 1e6:.1f} µs (60 per read: "
          f"{queued * 60 * 1e3:.2f} ms); flushing: {flushed:,.0f} records/s")


if __name__ == "__main__":
    asyncio.run(main())
