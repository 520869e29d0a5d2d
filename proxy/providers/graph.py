"""The ``graph`` service: Office 365 calendars and contacts through Microsoft Graph v1.0.

Events are synced per calendar with ``calendarView/delta`` over the mirrored window: a
full round pages through ``@odata.nextLink`` and ends with an ``@odata.deltaLink``; later
rounds follow that link and get changes and ``@removed`` ids. Graph expands series in a
calendarView, so this provider delivers occurrences and exceptions (with the series id and
original start); deleted occurrences come back as removals. At the end of a round it also
fetches the ``seriesMaster`` of every series with an occurrence in the round (each once,
``GET /me/events/{id}`` with ``$select``) and delivers it with ``occurrences_listed`` and
the RRULE of its ``patternedRecurrence``, so that feeds can publish the series as one
VEVENT; a master whose pattern has no RRULE (or that is gone) is delivered as a removal.
The sync cursor is a small JSON blob holding the link to follow and the window it was
made for (and, between the pages of a round, the series still to fetch): when the
mirrored window has moved on by more than a day, or Graph answers 410
``SyncStateNotFound``, :class:`CursorExpired` asks the driver for a full round.

Requests are built with msgraph-sdk and sent through its middleware (see
:mod:`proxy.providers.graph_http`, which maps every failure); bodies are read as raw JSON
(:mod:`proxy.providers.graph_normalize`) and written from drafts
(:mod:`proxy.providers.graph_write`). Change notifications (subscriptions) are
:mod:`proxy.providers.graph_push`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method

from proxy.core.model import (
    Calendar,
    Contact,
    ContactDraft,
    Event,
    EventDraft,
)
from proxy.errors import CursorExpired, UpstreamError, UpstreamNotFound
from proxy.providers.base import (
    Capabilities,
    Connection,
    ContactPage,
    DeliversOccurrences,
    PushChannel,
    PushTarget,
    SyncPage,
    Window,
)
from proxy.providers.graph_contacts import GraphContacts
from proxy.providers.graph_http import GraphSession
from proxy.providers.graph_normalize import (
    calendar_from_graph,
    contact_from_graph,
    event_page,
    one_event,
)
from proxy.providers.graph_push import SUPPORT, GraphPush
from proxy.providers.graph_write import contact_body, event_body

#: How far the mirrored window may move before a delta link is abandoned for a full round.
WINDOW_SLACK = timedelta(days=1)
#: what normalizing a series master reads (``$select`` of its fetch)
MASTER_FIELDS = [
    "id", "type", "subject", "body", "start", "end", "isAllDay", "originalStartTimeZone",
    "originalEndTimeZone", "iCalUId", "location", "showAs", "sensitivity", "organizer",
    "attendees", "categories", "onlineMeeting", "onlineMeetingUrl", "isCancelled",
    "responseStatus", "recurrence", "createdDateTime", "lastModifiedDateTime"]


class GraphProvider(DeliversOccurrences):
    """One integration's Graph mailbox, behind :class:`proxy.providers.base.Provider`."""

    capabilities = Capabilities(write_events=True, read_contacts=True, write_contacts=True)
    #: change notifications: subscriptions renewed in place (:mod:`.graph_push`)
    push = SUPPORT
    #: events per delta page (``Prefer: odata.maxpagesize``) and contacts per page
    page_size = 250
    contact_page_size = 100

    def __init__(self, connection: Connection, *, timeout: float = 30.0,
                 retry_cap: float = 2.0, max_retries: int = 2) -> None:
        self.session = GraphSession(connection.settings, connection.tokens,
                                    connection.mailbox_key, timeout, retry_cap, max_retries)
        self.me = self.session.sdk.me
        self.contacts = GraphContacts(self.session, self.me, self.contact_page_size)
        self.subscriptions = GraphPush(self.session)

    @property
    def requests(self) -> int:
        """Requests sent upstream so far (for benchmarks and tests)."""
        return self.session.requests

    async def check(self) -> str | None:
        """Prove the token works and the mailbox is in Exchange Online; return the
        signed-in user's immutable id (``/me`` ``id``, else its ``userPrincipalName``).

        A hybrid (on-premises) mailbox answers ``MailboxNotEnabledForRESTAPI`` on its
        calendar, which surfaces as 422 ``hybrid_not_supported``.
        """
        me = await self.session.call(self.me.to_get_request_information())
        await self.session.call(self.me.calendar.to_get_request_information())
        if not isinstance(me, dict):
            return None
        named = me.get("id") or me.get("userPrincipalName")
        return str(named) if named else None

    async def list_calendars(self) -> list[Calendar]:
        calendars: list[Calendar] = []
        info = self.me.calendars.to_get_request_information()
        while True:
            body = await self.session.call(info)
            try:
                calendars += [calendar_from_graph(c) for c in body["value"]]
                link = body.get("@odata.nextLink")
            except (KeyError, TypeError, AttributeError):
                raise UpstreamError("Graph answered a malformed calendar list") from None
            if not link:
                return calendars
            info = self.me.calendars.with_url(link).to_get_request_information()

    async def sync_events(self, calendar_id: str, cursor: str | None,
                          window: Window) -> SyncPage:
        builder = self.me.calendars.by_calendar_id(calendar_id).calendar_view.delta
        if cursor is None:
            state: dict[str, Any] = {"cal": calendar_id, "ws": window.start.isoformat(),
                                     "we": window.end.isoformat()}
            params = builder.DeltaRequestBuilderGetQueryParameters(
                start_date_time=_query_time(window.start), end_date_time=_query_time(window.end))
            info = builder.to_get_request_information(
                RequestConfiguration(query_parameters=params))
        else:
            state = _read_cursor(cursor, calendar_id, window)
            info = builder.with_url(state["u"]).to_get_request_information()
        body = await self.session.call(info, page_size=self.page_size)
        changed, removed = event_page(body, calendar_id)
        pending = set(state.pop("m", ())) | {e.recurrence.series_id for e in changed
                                             if e.recurrence is not None}
        page = _sync_page(body, state, changed, removed, pending)
        if not page.done or not pending:
            return page
        masters, gone = await self._masters(calendar_id, sorted(pending))
        return replace(page, changed=changed + masters, removed=removed + gone)

    async def _masters(self, calendar_id: str,
                       ids: list[str]) -> tuple[tuple[Event, ...], tuple[str, ...]]:
        """The series masters ``ids`` (fetched concurrently; the session caps requests
        in flight); those without an RRULE, or gone meanwhile, as removals."""
        found = await asyncio.gather(*(self._master(calendar_id, i) for i in ids))
        masters = tuple(m for m in found if m is not None and m.rrule)
        kept = {m.provider_id for m in masters}
        return masters, tuple(i for i in ids if i not in kept)

    async def _master(self, calendar_id: str, master_id: str) -> Event | None:
        builder = self.me.events.by_event_id(master_id)
        params = builder.EventItemRequestBuilderGetQueryParameters(select=MASTER_FIELDS)
        info = builder.to_get_request_information(RequestConfiguration(query_parameters=params))
        try:
            body = await self.session.call(info)
        except UpstreamNotFound:
            return None
        master = one_event(body, calendar_id)
        return master if master.occurrences_listed else None

    async def get_event(self, calendar_id: str, event_id: str) -> Event:
        builder = self._event(calendar_id, event_id)
        body = await self.session.call(builder.to_get_request_information())
        return one_event(body, calendar_id)

    async def create_event(self, calendar_id: str, draft: EventDraft) -> Event:
        if draft.start is None or draft.end is None:
            raise UpstreamError("Graph needs a start and an end to create an event")
        builder = self.me.calendars.by_calendar_id(calendar_id).events
        body = await self.session.call(
            self.session.request(Method.POST, builder, event_body(draft)))
        return one_event(body, calendar_id)

    async def update_event(self, calendar_id: str, event_id: str, draft: EventDraft) -> Event:
        """PATCH the given fields; a new zone alone re-sends the current times in it."""
        if draft.time_zone and draft.start is None and draft.end is None:
            current = await self.get_event(calendar_id, event_id)
            draft = _with_times(draft, current)
        builder = self._event(calendar_id, event_id)
        body = await self.session.call(
            self.session.request(Method.PATCH, builder, event_body(draft)))
        return one_event(body, calendar_id)

    async def delete_event(self, calendar_id: str, event_id: str) -> None:
        builder = self._event(calendar_id, event_id)
        await self.session.call(self.session.request(Method.DELETE, builder))

    async def sync_contacts(self, cursor: str | None) -> ContactPage:
        """Contacts by delta, folder by folder (see :mod:`.graph_contacts`)."""
        return await self.contacts.page(cursor)

    async def create_contact(self, draft: ContactDraft) -> Contact:
        body = await self.session.call(
            self.session.request(Method.POST, self.me.contacts, contact_body(draft)))
        try:
            return contact_from_graph(body)
        except (KeyError, TypeError, AttributeError):
            raise UpstreamError("Graph answered a malformed contact") from None

    async def watch(self, calendar_id: str, primary: bool, target: PushTarget) -> PushChannel:
        """Subscribe to the calendar's changes (see :mod:`.graph_push`)."""
        return await self.subscriptions.watch(calendar_id, primary, target)

    async def renew(self, channel: PushChannel, expires: datetime) -> PushChannel:
        return await self.subscriptions.renew(channel, expires)

    async def unwatch(self, channel: PushChannel) -> None:
        await self.subscriptions.unwatch(channel)

    async def close(self) -> None:
        await self.session.aclose()

    def _event(self, calendar_id: str, event_id: str) -> Any:
        return self.me.calendars.by_calendar_id(calendar_id).events.by_event_id(event_id)


def _query_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_cursor(cursor: str, calendar_id: str, window: Window) -> dict[str, Any]:
    """The stored state; CursorExpired when it cannot serve ``window`` of ``calendar_id``."""
    try:
        state = json.loads(cursor)
        link, start, end = state["u"], state["ws"], state["we"]
        made_for = (datetime.fromisoformat(start), datetime.fromisoformat(end))
    except (ValueError, KeyError, TypeError):
        raise CursorExpired("unreadable Graph sync cursor") from None
    if state.get("cal") != calendar_id or not isinstance(link, str):
        raise CursorExpired("the cursor belongs to another calendar")
    pending = state.get("m", [])
    if not isinstance(pending, list) or not all(isinstance(i, str) for i in pending):
        raise CursorExpired("unreadable Graph sync cursor")
    if window.end - made_for[1] > WINDOW_SLACK or made_for[0] - window.start > WINDOW_SLACK:
        raise CursorExpired("the mirrored window moved on: a full round follows")
    return dict(state)


def _sync_page(body: Any, state: dict[str, Any], changed: tuple[Event, ...],
               removed: tuple[str, ...], pending: set[str]) -> SyncPage:
    """The page, its cursor carrying the series whose masters the round still fetches
    (only between pages: a round's last cursor is the bare delta link and window)."""
    next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
    link = next_link or delta_link
    if not isinstance(link, str):
        raise UpstreamError("Graph answered a malformed delta page (no nextLink or deltaLink)")
    carried = {"m": sorted(pending)} if next_link and pending else {}
    cursor = json.dumps({**state, "u": link, **carried}, separators=(",", ":"))
    return SyncPage(changed, removed, cursor, done=not next_link)


def _with_times(draft: EventDraft, current: Event) -> EventDraft:
    return replace(draft, start=current.start, end=current.end)
