"""Calendars and the event mirror.

Each mirrored event is one row: its public id, its calendar, the provider's id, its
``kind``, its UTC bounds (for range queries) and the whole :class:`Event` as JSON. A sync
round lands in one transaction: rows are encoded first (a bad event fails the round before
anything is written), the calendar row is locked by the update that moves its cursor, the
changed and removed events are deleted by provider id and the changed ones bulk-inserted
(one executemany); any error rolls all of it back, so the previous mirror and cursor stay
whole. A round that finds nothing new is two statements: the lease check and the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, delete, insert, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.core.mirror import MirroredEvent, calendar_public_id
from proxy.core.model import Calendar, Event, EventStatus, Moment
from proxy.core.timeutil import to_utc
from proxy.errors import NotFound
from proxy.store.changes import Topic
from proxy.store.codec import event_from_json, event_to_json
from proxy.store.records import CalendarRecord, LeaseFence
from proxy.store.schema import calendars as calendar_table
from proxy.store.schema import events
from proxy.store.sql_base import StoreBase, chunks, fence, id_scope, new_id

#: kinds returned by ``events_in_range`` whatever their own times (the core needs every
#: master to expand series, and every exception and cancellation to apply them)
ALWAYS_LOADED = ("master", "exception", "cancelled")


def event_kind(event: Event) -> str:
    """single, master, occurrence, exception or cancelled (a cancelled occurrence)."""
    if event.is_series_master:
        return "master"
    if event.recurrence is None:
        return "single"
    if event.status is EventStatus.CANCELLED:
        return "cancelled"
    return "exception" if event.recurrence.is_exception else "occurrence"


def _utc_bound(moment: Moment, time_zone: str) -> datetime:
    try:
        return to_utc(moment, time_zone)
    except OverflowError:  # a date at the edge of the calendar (year 1 or 9999)
        low = moment.year < 5000
        return (datetime.min if low else datetime.max).replace(tzinfo=UTC)


def event_row(calendar_id: str, item: MirroredEvent) -> dict[str, Any]:
    """The row of ``item`` (without ``integration_id``, which comes from the calendar)."""
    event = item.event
    start = _utc_bound(event.start, event.time_zone)
    end = max(start, _utc_bound(event.end, event.time_zone))
    return {
        "id": item.id, "calendar_id": calendar_id, "provider_id": event.provider_id,
        "kind": event_kind(event), "start_utc": start, "end_utc": end,
        "series_public_id": item.series_public_id, "doc": event_to_json(event),
    }


def _mirrored(row: Row[Any]) -> MirroredEvent:
    return MirroredEvent(id=row.id, calendar_id=row.calendar_id,
                         integration_id=row.integration_id, event=event_from_json(row.doc),
                         series_public_id=row.series_public_id)


def calendar_record(row: Row[Any]) -> CalendarRecord:
    return CalendarRecord(
        id=row.id, integration_id=row.integration_id, provider_id=row.provider_id,
        name=row.name, is_primary=bool(row.is_primary), can_write=bool(row.can_write),
        synced=bool(row.synced), cursor=row.cursor, synced_at=row.synced_at,
        time_zone=row.time_zone, version=row.version, incarnation=row.incarnation)


async def _bump(conn: AsyncConnection, calendar_id: str) -> None:
    await conn.execute(update(calendar_table).where(calendar_table.c.id == calendar_id)
                       .values(version=calendar_table.c.version + 1))


async def _lock_calendar(conn: AsyncConnection, calendar_id: str) -> Row[Any]:
    """The calendar row, locked against concurrent rounds on PostgreSQL; ``NotFound``."""
    row = (await conn.execute(select(calendar_table).where(calendar_table.c.id == calendar_id)
                              .with_for_update())).first()
    if row is None:
        raise NotFound("unknown calendar", code="calendar_not_found")
    return row


async def _replace_events(conn: AsyncConnection, row: Row[Any],
                          rows: Sequence[dict[str, Any]], removed: Sequence[str],
                          full: bool) -> None:
    where_calendar = events.c.calendar_id == row.id
    if full:
        await conn.execute(delete(events).where(where_calendar))
    else:
        doomed = sorted({*removed, *(r["provider_id"] for r in rows)})
        for part in chunks(doomed):
            await conn.execute(delete(events).where(where_calendar
                                                    & events.c.provider_id.in_(part)))
    if rows:
        for r in rows:
            r["integration_id"] = row.integration_id
        await conn.execute(insert(events), list(rows))


def _calendar_values(integration_id: str, scope: str, cal: Calendar,
                     synced_by_default: bool) -> dict[str, Any]:
    return {"id": calendar_public_id(scope, cal.provider_id), "integration_id": integration_id,
            "provider_id": cal.provider_id, "name": cal.name, "is_primary": cal.is_primary,
            "can_write": cal.can_write, "time_zone": cal.time_zone,
            "synced": cal.is_primary or synced_by_default, "cursor": None, "synced_at": None,
            "incarnation": new_id()}


def _upsert_statement(conn: AsyncConnection) -> Any:
    """Insert a calendar, or refresh the listed fields of the one already there (its
    ``synced`` flag, cursor, mirror and identity stay)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(calendar_table)
    return statement.on_conflict_do_update(
        index_elements=[calendar_table.c.integration_id, calendar_table.c.provider_id],
        set_={name: statement.excluded[name]
              for name in ("name", "is_primary", "can_write", "time_zone")})


def _dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the last row per provider id (a round may report one event twice)."""
    return list({r["provider_id"]: r for r in rows}.values())


class EventOps(StoreBase):
    # --- calendars ---------------------------------------------------------------------
    async def upsert_calendars(
        self, integration_id: str, calendars: Sequence[Calendar], synced_by_default: bool,
    ) -> list[CalendarRecord]:
        """Record the provider's calendars, keeping each known one's ``synced`` flag; a new
        calendar is synced when it is primary or ``synced_by_default``; calendars gone
        upstream are removed with their events (cascade).

        Safe against itself on other instances (two discovering one integration at once):
        the rows go in with one ``INSERT ... ON CONFLICT (integration_id, provider_id) DO
        UPDATE``, in provider-id order, so the second writer waits for the first and then
        updates what it inserted instead of failing on the unique constraint."""
        given = list({c.provider_id: c for c in calendars}.values())
        where = calendar_table.c.integration_id == integration_id
        async with self._write() as conn:
            scope = await id_scope(conn, integration_id)
            if scope is None:
                raise NotFound("unknown integration", code="integration_not_found")
            if given:
                await conn.execute(_upsert_statement(conn), [
                    _calendar_values(integration_id, scope, c, synced_by_default)
                    for c in sorted(given, key=lambda c: c.provider_id)])
            gone = list((await conn.execute(
                delete(calendar_table).where(where, calendar_table.c.provider_id.not_in(
                    [c.provider_id for c in given])).returning(calendar_table.c.id),
            )).scalars())
            rows = {r.provider_id: r for r in await conn.execute(
                select(calendar_table).where(where))}
        self._announce(Topic.CALENDAR, *gone, *(r.id for r in rows.values()))
        return [calendar_record(rows[c.provider_id]) for c in given]

    async def list_calendars(self, integration_ids: Sequence[str]) -> list[CalendarRecord]:
        """The calendars of these integrations, primary ones first, then by name."""
        if not integration_ids:
            return []
        c = calendar_table.c
        query = (select(calendar_table).where(c.integration_id.in_(list(integration_ids)))
                 .order_by(c.is_primary.desc(), c.name, c.id))
        async with self._read() as conn:
            return [calendar_record(r) for r in await conn.execute(query)]

    async def get_calendar(self, calendar_id: str) -> CalendarRecord | None:
        async with self._read() as conn:
            row = (await conn.execute(
                select(calendar_table).where(calendar_table.c.id == calendar_id))).first()
        return calendar_record(row) if row else None

    async def set_calendar_synced(self, calendar_id: str, synced: bool) -> CalendarRecord:
        """Unsyncing drops its mirrored events and cursor; ``NotFound`` if unknown."""
        values: dict[str, Any] = {"synced": synced, "version": calendar_table.c.version + 1}
        if not synced:
            values.update(cursor=None, synced_at=None)
        async with self._write() as conn:
            await _lock_calendar(conn, calendar_id)
            if not synced:
                await conn.execute(delete(events).where(events.c.calendar_id == calendar_id))
            row = (await conn.execute(
                update(calendar_table).where(calendar_table.c.id == calendar_id)
                .values(**values).returning(*calendar_table.c))).one()
        self._announce(Topic.CALENDAR, calendar_id)
        return calendar_record(row)

    # --- the event mirror --------------------------------------------------------------
    async def apply_event_sync(
        self, calendar_id: str, changed: Sequence[MirroredEvent], removed: Sequence[str],
        cursor: str | None, synced_at: datetime, full: bool, *,
        lease: LeaseFence | None = None,
    ) -> CalendarRecord:
        """Write one finished sync round in one transaction (see the module docstring)
        and return the calendar as it now stands.

        ``removed`` are provider ids; ``full=True`` means ``changed`` is the whole calendar
        and every other mirrored event of it is deleted. With a ``lease`` the round
        commits only while that lease is still its holder's and live, checked in this
        transaction (and released by it), else :class:`~proxy.store.records.LeaseLost`
        and nothing is written. ``NotFound`` for an unknown calendar; an event that cannot
        be encoded raises before anything is written.
        """
        rows = _dedupe([event_row(calendar_id, item) for item in changed])
        values: dict[str, Any] = {"cursor": cursor, "synced_at": synced_at}
        if rows or removed or full:
            values["version"] = calendar_table.c.version + 1
        async with self._write() as conn:
            await fence(conn, lease)
            row = (await conn.execute(  # the update locks the row against concurrent rounds
                update(calendar_table).where(calendar_table.c.id == calendar_id)
                .values(**values).returning(*calendar_table.c))).first()
            if row is None:
                raise NotFound("unknown calendar", code="calendar_not_found")
            await _replace_events(conn, row, rows, removed, full)
        self._announce(Topic.CALENDAR, calendar_id)
        return calendar_record(row)

    async def events_in_range(
        self, calendar_ids: Sequence[str], start: datetime, end: datetime,
    ) -> list[MirroredEvent]:
        """Mirrored events overlapping [start, end) (a zero-length event at ``start``
        counts), plus every series master, exception and cancellation of those
        calendars; sorted by UTC start."""
        if not calendar_ids:
            return []
        overlaps = (events.c.start_utc < end) & (
            (events.c.end_utc > start) | (events.c.start_utc >= start))
        query = (select(events).where(events.c.calendar_id.in_(list(calendar_ids)))
                 .where(or_(overlaps, events.c.kind.in_(ALWAYS_LOADED)))
                 .order_by(events.c.start_utc, events.c.id))
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [_mirrored(r) for r in rows]

    async def window_items(
        self, calendar_ids: Sequence[str], start: datetime, end: datetime,
    ) -> list[MirroredEvent]:
        """As :meth:`events_in_range`, unsorted and with only the columns an item is made
        of: two index searches (the window on ``ix_events_range``, the kinds always
        loaded on ``ix_events_kind``) instead of one scan of the calendar's rows and a
        sort, about half the time of the read path's store query."""
        if not calendar_ids:
            return []
        c = events.c
        ids = list(calendar_ids)
        columns = (c.id, c.calendar_id, c.integration_id, c.series_public_id, c.doc)
        overlaps = (c.start_utc < end) & ((c.end_utc > start) | (c.start_utc >= start))
        timed = (select(*columns).where(c.calendar_id.in_(ids)).where(overlaps)
                 .where(c.kind.not_in(ALWAYS_LOADED)))
        always = select(*columns).where(c.calendar_id.in_(ids)).where(c.kind.in_(ALWAYS_LOADED))
        async with self._read() as conn:
            rows = (await conn.execute(union_all(timed, always))).all()
        return [MirroredEvent(id=i, calendar_id=cal, integration_id=integ,
                              event=event_from_json(doc), series_public_id=series)
                for i, cal, integ, series, doc in rows]

    async def get_event(self, event_id: str) -> MirroredEvent | None:
        async with self._read() as conn:
            row = (await conn.execute(select(events).where(events.c.id == event_id))).first()
        return _mirrored(row) if row else None

    async def put_event(self, calendar_id: str, event: MirroredEvent) -> None:
        """Write-through of one event after a provider write (insert or replace)."""
        rows = [event_row(calendar_id, event)]
        async with self._write() as conn:
            row = await _lock_calendar(conn, calendar_id)
            await _replace_events(conn, row, rows, (), full=False)
            await _bump(conn, calendar_id)
        self._announce(Topic.CALENDAR, calendar_id)

    async def delete_event(self, calendar_id: str, provider_id: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(events).where(
                (events.c.calendar_id == calendar_id) & (events.c.provider_id == provider_id)))
            await _bump(conn, calendar_id)
        self._announce(Topic.CALENDAR, calendar_id)
