"""The audit trail (DESIGN §12): who did what on whose calendar, allowed or refused.

Actions record through :func:`audit` (or, for reads, :func:`audit_private_reads`; for
refusals on the JSON API, :func:`proxy.operations.audit_http.audit_refusals`), which
only appends to the
:class:`AuditTrail`'s in-memory queue, so a read is not slowed by a write to the store. A
background task flushes the queue in one multi-row insert every :data:`FLUSH_SECONDS` (or
sooner once :data:`BATCH` records wait), and once more at shutdown; it also prunes records
older than ``CALPROXY_AUDIT_DAYS``. A record names people by email, the target by id or
setting name, and never carries content (no title, no field values). Reading the trail
flushes this instance's queue first, so what just happened is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from proxy.core.access import Relation
from proxy.redaction import VisibleEvent
from proxy.store.interface import Store
from proxy.store.records import AuditRecord, User
from proxy.store.sql_base import new_id

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
BATCH = 500
#: records kept in memory while the store cannot take them (oldest dropped beyond)
MAX_PENDING = 50_000
PRUNE_EVERY = timedelta(hours=1)
#: a delegate re-reading the same private event within this many seconds is not recorded
#: again (a client polling a calendar would otherwise write a record per event per poll)
READ_REPEAT_SECONDS = 60.0
#: (reader, event) pairs remembered for that purpose at most
MAX_RECENT_READS = 100_000

ALLOWED, REFUSED = "allowed", "refused"


class AuditTrail:
    """The queue of records not yet written, and the task that writes them."""

    def __init__(self, store: Store, retention_days: int) -> None:
        self.store, self.retention = store, timedelta(days=retention_days)
        self._pending: list[AuditRecord] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._recent_reads: OrderedDict[tuple[str, str], float] = OrderedDict()

    def record(self, action: str, actor: User, owner: User | None, target: str | None,
               result: str = ALLOWED) -> None:
        self._pending.append(AuditRecord(  # the account whose calendar it was (an
            # outsider's refused read belongs to the owner's account, not the outsider's)
            id=new_id(), at=datetime.now(UTC),
            account_id=owner.account_id if owner else actor.account_id,
            actor_id=actor.id, actor=actor.email, action=action,
            owner_id=owner.id if owner else None, owner=owner.email if owner else None,
            target=target[:200] if target else None, result=result))
        if len(self._pending) >= BATCH:
            self._wake.set()
        if len(self._pending) > MAX_PENDING:
            del self._pending[:len(self._pending) - MAX_PENDING]

    def record_read(self, actor: User, owner: User, event_id: str) -> None:
        """``event.read_private``, once per reader and event within READ_REPEAT_SECONDS."""
        key, now = (actor.id, event_id), time.monotonic()
        last = self._recent_reads.pop(key, None)
        if last is not None and now - last < READ_REPEAT_SECONDS:
            self._recent_reads[key] = last
            return
        self._recent_reads[key] = now
        if len(self._recent_reads) > MAX_RECENT_READS:
            self._recent_reads.popitem(last=False)
        self.record("event.read_private", actor, owner, event_id)

    async def flush(self) -> None:
        """Write what waits (kept for the next try when the store fails)."""
        async with self._lock:
            while self._pending:
                batch = self._pending[:BATCH]
                try:
                    await self.store.append_audit(batch)
                except Exception as exc:
                    log.warning("audit: flush failed (%s); will retry", type(exc).__name__)
                    raise
                del self._pending[:len(batch)]  # records only ever join at the end

    async def run(self) -> None:
        """Flush every FLUSH_SECONDS (or at BATCH records); prune hourly."""
        pruned_at = datetime.min.replace(tzinfo=UTC)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            self._wake.clear()
            with contextlib.suppress(Exception):  # logged by flush; retried next round
                await self.flush()
            if datetime.now(UTC) - pruned_at >= PRUNE_EVERY:
                pruned_at = datetime.now(UTC)
                await self._prune()

    async def _prune(self) -> None:
        try:
            await self.store.prune_audit(datetime.now(UTC) - self.retention)
        except Exception as exc:
            log.warning("audit: pruning failed (%s)", type(exc).__name__)


def audit(trail: AuditTrail | None, action: str, actor: User, owner: User | None,
          target: str | None, result: str = ALLOWED) -> None:
    """Record one action (a no-op where no trail runs, e.g. in a bare test app)."""
    if trail is not None:
        trail.record(action, actor, owner, target, result)


def audit_private_reads(trail: AuditTrail | None, caller: User, owner: User,
                        relation: Relation, visible: Iterable[VisibleEvent]) -> None:
    """A delegate was shown private events in full: one ``event.read_private`` each."""
    if trail is None or relation is not Relation.DELEGATE:
        return
    for event in visible:
        if event.sensitivity.is_private and not event.redacted:
            trail.record_read(caller, owner, event.id)
