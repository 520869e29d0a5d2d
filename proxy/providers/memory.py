"""An in-memory provider: real code behind the protocol, for fast tests and the core demo.

State lives in a :class:`MemoryBackend` shared by every provider object built from it, so
that tests can change "upstream" data and watch it flow through sync. Cursors are change
sequence numbers; tombstones make removals incremental; ``expire_cursors`` makes every
stored cursor invalid, as a provider's expired delta token would.

Push (:class:`~proxy.providers.base.Pushes`) is offered like Graph (renewed in place) by
default, like Google (a new channel each time, ids chosen by calproxy) with
``push_renews_in_place=False``, or not at all with ``push_lifetime=None``. The backend
keeps each channel's :class:`PushTarget` (so a test can send the notices the provider
would) and records every push call in ``push_calls``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from proxy.core.model import (
    Calendar,
    Contact,
    ContactDraft,
    Event,
    EventDraft,
    EventStatus,
    Moment,
    Recurrence,
    Service,
)
from proxy.core.timeutil import to_utc, zone
from proxy.errors import CursorExpired, UpstreamError, UpstreamNotFound
from proxy.providers.base import (
    Capabilities,
    Connection,
    ContactPage,
    PushChannel,
    PushSupport,
    PushTarget,
    SyncPage,
    Window,
)

OCCURRENCE = "~occ~"


@dataclass
class Mailbox:
    calendars: dict[str, Calendar] = field(default_factory=dict)
    events: dict[str, dict[str, Event]] = field(default_factory=dict)
    changes: dict[str, list[tuple[int, str, bool]]] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    contact_changes: list[tuple[int, str, bool]] = field(default_factory=list)
    epoch: int = 0


class MemoryBackend:
    """The upstream "server" of the memory provider."""

    page_size = 50

    def __init__(self, service: Service = Service.GRAPH) -> None:
        self.service = service
        self.mailboxes: dict[str, Mailbox] = {}
        self.requests = 0
        self.fail_next: Exception | None = None
        #: how long channels live (``None``: no push at all) and how they renew
        self.push_lifetime: timedelta | None = timedelta(days=7)
        self.push_renews_in_place = True
        #: live channels by upstream id: (mailbox, calendar id, target, channel)
        self.channels: dict[str, tuple[str, str, PushTarget, PushChannel]] = {}
        #: every push call: ("watch", calendar id) / ("renew" | "unwatch", upstream id)
        self.push_calls: list[tuple[str, str]] = []
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)

    def mailbox(self, key: str) -> Mailbox:
        box = self.mailboxes.setdefault(key, Mailbox())
        if not box.calendars:
            self.add_calendar(key, Calendar("primary", "Calendar", is_primary=True), box)
        return box

    def add_calendar(self, key: str, calendar: Calendar, box: Mailbox | None = None) -> None:
        box = box or self.mailbox(key)
        box.calendars[calendar.provider_id] = calendar
        box.events.setdefault(calendar.provider_id, {})
        box.changes.setdefault(calendar.provider_id, [])

    def put_event(self, key: str, event: Event) -> Event:
        box = self.mailbox(key)
        box.events[event.calendar_id][event.provider_id] = event
        box.changes[event.calendar_id].append((next(self._seq), event.provider_id, False))
        return event

    def remove_event(self, key: str, calendar_id: str, event_id: str) -> None:
        box = self.mailbox(key)
        if box.events[calendar_id].pop(event_id, None) is None:
            raise UpstreamNotFound("the event does not exist upstream")
        box.changes[calendar_id].append((next(self._seq), event_id, True))

    def put_contact(self, key: str, contact: Contact) -> Contact:
        box = self.mailbox(key)
        box.contacts[contact.provider_id] = contact
        box.contact_changes.append((next(self._seq), contact.provider_id, False))
        return contact

    def expire_cursors(self, key: str) -> None:
        self.mailbox(key).epoch += 1

    def new_id(self) -> str:
        return f"mem-{next(self._ids)}"

    def channels_on(self, calendar_id: str) -> list[tuple[PushTarget, PushChannel]]:
        """The live channels watching ``calendar_id`` (a provider id)."""
        return [(t, c) for _, cal, t, c in self.channels.values() if cal == calendar_id]

    def drop_channel(self, upstream_id: str) -> None:
        """The provider removes a channel by itself (expiry, Graph's subscriptionRemoved)."""
        self.channels.pop(upstream_id, None)


class MemoryProvider:
    capabilities = Capabilities()

    def __init__(self, backend: MemoryBackend, connection: Connection) -> None:
        self.backend = backend
        self.key = connection.mailbox_key

    def _call(self) -> Mailbox:
        self.backend.requests += 1
        if self.backend.fail_next is not None:
            exc, self.backend.fail_next = self.backend.fail_next, None
            raise exc
        return self.backend.mailbox(self.key)

    async def check(self) -> None:
        self._call()

    async def list_calendars(self) -> list[Calendar]:
        return list(self._call().calendars.values())

    async def sync_events(self, calendar_id: str, cursor: str | None, window: Window) -> SyncPage:
        box = self._call()
        if calendar_id not in box.events:
            raise UpstreamNotFound("the calendar does not exist upstream")
        if cursor is None:
            return self._full_page(box, calendar_id, window, 0)
        epoch, _, rest = cursor.partition(":")
        if int(epoch) != box.epoch:
            raise CursorExpired(calendar_id)
        if rest.startswith("full:"):
            return self._full_page(box, calendar_id, window, int(rest[5:]))
        return self._delta_page(box, calendar_id, window, int(rest))

    def _full_page(self, box: Mailbox, calendar_id: str, window: Window, offset: int) -> SyncPage:
        events = [e for e in box.events[calendar_id].values() if _in_window(e, window)]
        page = events[offset : offset + self.backend.page_size]
        done = offset + len(page) >= len(events)
        seq = max((s for s, _, _ in box.changes[calendar_id]), default=0)
        cursor = f"{box.epoch}:{seq}" if done else f"{box.epoch}:full:{offset + len(page)}"
        return SyncPage(tuple(page), (), cursor, done)

    def _delta_page(self, box: Mailbox, calendar_id: str, window: Window, since: int) -> SyncPage:
        latest: dict[str, bool] = {}
        seq = since
        for s, event_id, removed in box.changes[calendar_id]:
            if s > since:
                latest[event_id] = removed
                seq = s
        changed, removed_ids = [], []
        for event_id, removed in latest.items():
            event = box.events[calendar_id].get(event_id)
            if removed or event is None or not _in_window(event, window):
                removed_ids.append(event_id)
            else:
                changed.append(event)
        return SyncPage(tuple(changed), tuple(removed_ids), f"{box.epoch}:{seq}", True)

    async def get_event(self, calendar_id: str, event_id: str) -> Event:
        try:
            return self._call().events[calendar_id][event_id]
        except KeyError:
            raise UpstreamNotFound("the event does not exist upstream") from None

    async def create_event(self, calendar_id: str, draft: EventDraft) -> Event:
        self._call()
        if draft.start is None or draft.end is None:
            raise UpstreamError("the provider needs a start and an end")
        event = Event(
            provider_id=self.backend.new_id(), calendar_id=calendar_id,
            service=self.backend.service, start=draft.start, end=draft.end,
            ical_uid=f"{self.backend.new_id()}@memory",
        )
        return self.backend.put_event(self.key, replace(event, **draft.given()))

    async def update_event(self, calendar_id: str, event_id: str, draft: EventDraft) -> Event:
        current = await self._current(calendar_id, event_id)
        updated = replace(current, **draft.given(), sequence=current.sequence + 1)
        return self.backend.put_event(self.key, updated)

    async def delete_event(self, calendar_id: str, event_id: str) -> None:
        self._call()
        if OCCURRENCE in event_id:  # an occurrence of a series: it becomes cancelled
            current = await self._current(calendar_id, event_id)
            self.backend.put_event(self.key, replace(current, status=EventStatus.CANCELLED))
            return
        self.backend.remove_event(self.key, calendar_id, event_id)

    async def occurrence_id(self, calendar_id: str, series_id: str,
                            original_start: Moment) -> str:
        return f"{series_id}{OCCURRENCE}{to_utc(original_start).isoformat()}"

    async def _current(self, calendar_id: str, event_id: str) -> Event:
        """The event, or for a fresh occurrence id the occurrence its master implies."""
        series_id, marker, stamp = event_id.partition(OCCURRENCE)
        box = self.backend.mailbox(self.key)
        if not marker or event_id in box.events.get(calendar_id, {}):
            return await self.get_event(calendar_id, event_id)
        master = await self.get_event(calendar_id, series_id)
        original = datetime.fromisoformat(stamp).astimezone(to_utc(master.start).tzinfo)
        if master.all_day:
            original_moment: Moment = original.date()
        else:
            original_moment = original.astimezone(zone(master.time_zone))
        length = to_utc(master.end, master.time_zone) - to_utc(master.start, master.time_zone)
        end = original_moment + length
        return replace(master, provider_id=event_id, start=original_moment, end=end,
                       rrule=(), exdates=(),
                       recurrence=Recurrence(series_id, original_moment, is_exception=True))

    async def sync_contacts(self, cursor: str | None) -> ContactPage:
        box = self._call()
        since = int(cursor) if cursor else 0
        latest = {cid: removed for s, cid, removed in box.contact_changes if s > since}
        seq = max((s for s, _, _ in box.contact_changes), default=since)
        changed = tuple(box.contacts[c] for c, r in latest.items() if not r and c in box.contacts)
        removed = tuple(c for c, r in latest.items() if r or c not in box.contacts)
        return ContactPage(changed, removed, str(seq), True)

    async def create_contact(self, draft: ContactDraft) -> Contact:
        self._call()
        contact = Contact(
            provider_id=self.backend.new_id(), service=self.backend.service,
            display_name=draft.display_name or " ".join(
                p for p in (draft.given_name, draft.surname) if p),
            given_name=draft.given_name, surname=draft.surname, emails=draft.emails,
            phones=draft.phones, company=draft.company, job_title=draft.job_title,
        )
        return self.backend.put_contact(self.key, contact)

    # --- push (proxy.providers.base.Pushes) -----------------------------------------------
    @property
    def push(self) -> PushSupport:
        if self.backend.push_lifetime is None:  # then ``isinstance(p, Pushes)`` is False
            raise AttributeError("push")
        return PushSupport(self.backend.push_lifetime, self.backend.push_renews_in_place)

    async def watch(self, calendar_id: str, primary: bool, target: PushTarget) -> PushChannel:
        self.backend.push_calls.append(("watch", calendar_id))
        box = self._call()
        if calendar_id not in box.calendars:
            raise UpstreamNotFound("the calendar does not exist upstream")
        if self.push.renews_in_place:  # Graph: the provider names the subscription
            channel = PushChannel(f"sub-{self.backend.new_id()}", None,
                                  self._expiry(target.expires))
        else:  # Google: the channel is called what calproxy asked
            channel = PushChannel(target.channel_id, f"res-{calendar_id}",
                                  self._expiry(target.expires))
        self.backend.channels[channel.upstream_id] = (self.key, calendar_id, target, channel)
        return channel

    async def renew(self, channel: PushChannel, expires: datetime) -> PushChannel:
        self.backend.push_calls.append(("renew", channel.upstream_id))
        self._call()
        found = self.backend.channels.get(channel.upstream_id)
        if found is None:
            raise UpstreamNotFound("the subscription does not exist upstream")
        renewed = PushChannel(channel.upstream_id, channel.resource_id, self._expiry(expires))
        self.backend.channels[channel.upstream_id] = (*found[:3], renewed)
        return renewed

    async def unwatch(self, channel: PushChannel) -> None:
        self.backend.push_calls.append(("unwatch", channel.upstream_id))
        self._call()
        self.backend.channels.pop(channel.upstream_id, None)

    def _expiry(self, asked: datetime) -> datetime:
        return min(asked, datetime.now(UTC) + self.push.lifetime)

    async def close(self) -> None:
        return None


def _in_window(event: Event, window: Window) -> bool:
    if event.is_series_master:
        return True
    return (to_utc(event.end, event.time_zone) > window.start
            and to_utc(event.start, event.time_zone) < window.end)
