"""Seeding upstream (memory provider) data for API tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from proxy.core.model import Event, Service
from tests.api.conftest import Live

WINDOW = "start=2026-11-01T00:00:00Z&end=2026-12-31T00:00:00Z"
#: for tests against emulators, whose data must fall in the mirrored window around today
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
NEAR = (f"start={(NOW - timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        f"&end={(NOW + timedelta(days=20)).strftime('%Y-%m-%dT%H:%M:%SZ')}")


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def seed(live: Live, who: str = "exec", **fields: Any) -> Event:
    """Put an event upstream for ``who``'s memory mailbox; return it."""
    start = fields.pop("start", at(1))
    end = fields.pop("end", start + timedelta(hours=1))
    event = Event(provider_id=live.backend.new_id(), calendar_id="primary",
                  service=Service.GRAPH, start=start, end=end, **fields)
    return live.backend.put_event(live.mailbox(who), event)


async def events_of(live: Live, caller: str, owner: str = "exec@acme.example") -> tuple[
        int, Any]:
    status, body, _ = await live.call(caller, "GET", f"/v1/users/{owner}/events?{WINDOW}")
    return status, body
