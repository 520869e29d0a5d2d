"""The provider contract suite: every provider's test module subclasses ``ProviderContract``
and supplies a ``harness`` fixture (an object satisfying :class:`Harness`) that drives the
real provider against its emulator. A new provider's own contract file is a few lines.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from proxy.core.model import ContactDraft, EmailAddress, EventDraft, Sensitivity, ShowAs
from proxy.errors import CursorExpired, UpstreamNotFound
from proxy.providers.base import Provider, SyncPage, Window


class Harness(Protocol):
    provider: Provider
    #: the provider id of the user's primary calendar
    calendar_id: str

    async def seed_event(self, title: str, start: datetime, end: datetime) -> str:
        """Create an event directly in the emulator's state; return its provider id."""

    async def delete_upstream(self, event_id: str) -> None:
        """Delete an event directly in the emulator's state."""

    async def rename_upstream(self, event_id: str, title: str) -> None:
        """Change an event's subject directly in the emulator's state."""

    async def expire_cursors(self) -> None:
        """Make every outstanding sync cursor invalid upstream."""


def window() -> Window:
    now = datetime.now(UTC)
    return Window(now - timedelta(days=30), now + timedelta(days=365))


async def sync_round(provider: Provider, calendar_id: str, cursor: str | None) -> tuple[
        dict[str, str], set[str], str]:
    """Page a sync round to its end: {provider id: title}, removed ids, next cursor."""
    changed: dict[str, str] = {}
    removed: set[str] = set()
    while True:
        page: SyncPage = await provider.sync_events(calendar_id, cursor, window())
        changed.update({e.provider_id: e.title for e in page.changed})
        removed.update(page.removed)
        cursor = page.next_cursor
        if page.done:
            assert cursor is not None
            return changed, removed, cursor


def soon(hours: int = 24) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


class ProviderContract:
    async def test_lists_primary_calendar(self, harness: Harness) -> None:
        calendars = await harness.provider.list_calendars()
        assert harness.calendar_id in {c.provider_id for c in calendars}
        assert any(c.is_primary for c in calendars)

    async def test_full_then_incremental_sync(self, harness: Harness) -> None:
        first = await harness.seed_event("Alpha", soon(), soon(25))
        second = await harness.seed_event("Beta", soon(48), soon(49))
        changed, _, cursor = await sync_round(harness.provider, harness.calendar_id, None)
        assert changed[first] == "Alpha" and changed[second] == "Beta"

        third = await harness.seed_event("Gamma", soon(72), soon(73))
        await harness.rename_upstream(first, "Alpha 2")
        await harness.delete_upstream(second)
        changed, removed, _ = await sync_round(harness.provider, harness.calendar_id, cursor)
        assert changed.get(third) == "Gamma"
        assert changed.get(first) == "Alpha 2"
        assert second in removed
        assert second not in changed

    async def test_expired_cursor_is_reported(self, harness: Harness) -> None:
        await harness.seed_event("Alpha", soon(), soon(25))
        _, _, cursor = await sync_round(harness.provider, harness.calendar_id, None)
        await harness.expire_cursors()
        with pytest.raises(CursorExpired):
            await sync_round(harness.provider, harness.calendar_id, cursor)

    async def test_event_write_round_trip(self, harness: Harness) -> None:
        draft = EventDraft(title="Planning", start=soon(), end=soon(25), time_zone="UTC",
                           sensitivity=Sensitivity.PRIVATE, show_as=ShowAs.TENTATIVE)
        created = await harness.provider.create_event(harness.calendar_id, draft)
        assert created.title == "Planning"
        assert created.sensitivity is Sensitivity.PRIVATE
        assert created.show_as is ShowAs.TENTATIVE
        fetched = await harness.provider.get_event(harness.calendar_id, created.provider_id)
        assert fetched.title == "Planning" and fetched.start == created.start

        updated = await harness.provider.update_event(
            harness.calendar_id, created.provider_id, EventDraft(title="Planning (moved)"))
        assert updated.title == "Planning (moved)"
        assert updated.sensitivity is Sensitivity.PRIVATE

        await harness.provider.delete_event(harness.calendar_id, created.provider_id)
        with pytest.raises(UpstreamNotFound):
            await harness.provider.get_event(harness.calendar_id, created.provider_id)

    async def test_contacts_create_and_sync(self, harness: Harness) -> None:
        created = await harness.provider.create_contact(ContactDraft(
            given_name="Ada", surname="Lovelace",
            emails=(EmailAddress("ada@example.com", "work"),), company="Engines"))
        assert created.given_name == "Ada"
        cursor = None
        seen = {}
        while True:
            page = await harness.provider.sync_contacts(cursor)
            seen.update({c.provider_id: c for c in page.changed})
            cursor = page.next_cursor
            if page.done:
                break
        assert created.provider_id in seen
        assert seen[created.provider_id].emails[0].address == "ada@example.com"
