"""Builders and raw-SQL readers shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from proxy.core.mirror import MirroredEvent, event_public_id
from proxy.core.model import Calendar, Event, Moment, Permissions, Service
from proxy.store.records import CalendarRecord, Integration, IntegrationStatus, Role, User
from proxy.store.sql import SqlStore

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def raw(store: SqlStore, sql: str, **params: Any) -> list[Any]:
    """Rows of plain SQL, bypassing the store's code (what an attacker with the DB sees)."""
    async with store.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def raw_text(store: SqlStore, table: str) -> str:
    """Every value of every row of ``table`` as one string, for "does X appear" checks."""
    return repr(await raw(store, f"SELECT * FROM {table}"))


async def user_with_integration(
    store: SqlStore, email: str = "exec@example.com", **kw: Any,
) -> tuple[User, Integration]:
    account = await store.create_account("Acme", {})
    user = await store.create_user(account.id, email, Role.MEMBER)
    integration = await store.create_integration(
        user.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions(), **kw)
    return user, integration


async def calendar_of(store: SqlStore, integration: Integration,
                      provider_id: str = "cal-1") -> CalendarRecord:
    (record,) = await store.upsert_calendars(
        integration.id, [Calendar(provider_id, "Calendar", is_primary=True)], False)
    return record


def event(provider_id: str, start: Moment, end: Moment, **kw: Any) -> Event:
    return Event(provider_id=provider_id, calendar_id="cal-1", service=Service.GRAPH,
                 start=start, end=end, **kw)


def mirrored(calendar: CalendarRecord, ev: Event, series: str | None = None) -> MirroredEvent:
    return MirroredEvent(
        id=event_public_id(calendar.id, ev.provider_id),
        calendar_id=calendar.id, integration_id=calendar.integration_id, event=ev,
        series_public_id=series)
