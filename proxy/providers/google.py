"""The ``google`` service: Google Calendar v3 and People v1.

Requests are built by ``google-api-python-client`` from the discovery documents it ships
(``static_discovery``; ``api_endpoint`` from ``CALPROXY_GOOGLE_CALENDAR_URL`` /
``CALPROXY_GOOGLE_PEOPLE_URL``) and sent with aiohttp by
:mod:`proxy.providers.google_transport`, which also maps every failure onto
:mod:`proxy.errors`. JSON is normalized by :mod:`proxy.providers.google_normalize`.

Sync: one upstream page per :meth:`GoogleProvider.sync_events` call. A full round lists
``events`` with ``singleEvents=false`` within the window (series masters with
``recurrence``, exceptions and cancelled occurrences with ``recurringEventId``) and ends
with Google's ``nextSyncToken``; later rounds pass it back and get every change since,
deletions included. A 410 ``fullSyncRequired`` raises :class:`CursorExpired`: the driver
then starts a full round and reconciles deletions itself (a full listing has no
tombstones). Cursors are small JSON objects, opaque to the driver.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httplib2
from googleapiclient.discovery import build

from proxy.core.model import (
    Calendar,
    Contact,
    ContactDraft,
    Event,
    EventDraft,
    EventStatus,
    Moment,
)
from proxy.core.timeutil import to_utc
from proxy.errors import BadRequest, CursorExpired, Forbidden, UpstreamError, UpstreamNotFound
from proxy.providers.base import (
    Capabilities,
    Connection,
    ContactPage,
    PushChannel,
    PushTarget,
    SyncPage,
    Window,
)
from proxy.providers.google_normalize import (
    PERSON_FIELDS,
    Malformed,
    contact_from_json,
    contact_to_json,
    draft_to_json,
    event_from_json,
)
from proxy.providers.google_push import SUPPORT, channel_from_json, stop_body, watch_body
from proxy.providers.google_transport import GoogleTransport, Json, RetryPolicy, gate_for

T = TypeVar("T")
PAGE_SIZE = 2500
CONTACT_PAGE_SIZE = 1000
#: pages with more items than this are normalized in a worker thread
BIG_PAGE = 500
_SERVICES: dict[tuple[str, str], Any] = {}


def _service(api: str, version: str, endpoint: str) -> Any:
    """A cached discovery-built service; it only builds requests, it never sends one."""
    key = (api, endpoint)
    if key not in _SERVICES:
        _SERVICES[key] = build(api, version, http=httplib2.Http(proxy_info=None),
                               static_discovery=True, cache_discovery=False,
                               client_options={"api_endpoint": endpoint})
    return _SERVICES[key]


def _cursor(data: dict[str, str | None]) -> str:
    return json.dumps({k: v for k, v in data.items() if v}, separators=(",", ":"))


def _read_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        raise CursorExpired("unreadable google cursor") from None
    if not isinstance(data, dict):
        raise CursorExpired("unreadable google cursor")
    return {str(k): str(v) for k, v in data.items()}


def _utc(moment: Any) -> str:
    return str(moment.astimezone(UTC).isoformat().replace("+00:00", "Z"))


async def _normalize(items: list[Any], convert: Callable[[Any], T]) -> list[T]:
    """Convert every item (in a thread for big pages); :class:`Malformed` -> 502."""
    def run() -> list[T]:
        return [convert(item) for item in items]

    try:
        return await asyncio.to_thread(run) if len(items) > BIG_PAGE else run()
    except Malformed as exc:
        raise UpstreamError(f"google answered a malformed payload (field {exc})") from None


class GoogleProvider:
    """One Google integration: its calendars, events and contacts."""

    capabilities = Capabilities()
    push = SUPPORT

    def __init__(self, connection: Connection, policy: RetryPolicy | None = None) -> None:
        settings = connection.settings
        self.policy = policy or RetryPolicy()
        self.transport = GoogleTransport(
            connection.http, connection.tokens,
            gate_for(connection.mailbox_key, self.policy), self.policy)
        self.calendar = _service("calendar", "v3", settings.google_calendar_url + "/")
        self.people = _service("people", "v1", settings.google_people_url + "/")
        self._events = self.calendar.events()
        self._zones: dict[str, str] = {}

    @property
    def requests(self) -> int:
        """Upstream requests sent so far (for benchmarks and tests)."""
        return self.transport.requests

    async def _call(self, request: Any) -> Json:
        data = await self.transport.call(request)
        if data is None:
            raise UpstreamError("google answered an empty payload")
        return data

    async def check(self) -> None:
        try:
            await self._call(self.calendar.calendarList().list(maxResults=1))
        except Forbidden:
            await self._call(self.people.people().connections().list(
                resourceName="people/me", personFields="names", pageSize=1))

    async def list_calendars(self) -> list[Calendar]:
        calendars: list[Calendar] = []
        page: str | None = None
        while True:
            data = await self._call(self.calendar.calendarList().list(
                maxResults=250, pageToken=page))
            calendars.extend(await _normalize(_items(data, "items"), _calendar))
            page = data.get("nextPageToken")
            if not page:
                break
        self._zones.update({c.provider_id: c.time_zone or "UTC" for c in calendars})
        return calendars

    async def sync_events(self, calendar_id: str, cursor: str | None, window: Window) -> SyncPage:
        state = _read_cursor(cursor)
        day = window.start.date().isoformat()
        if state.get("sync") and state.get("day") != day:
            # sync tokens follow changes, not time: events the moved window now covers
            # only arrive with a new full round (as Graph's and EWS's cursors do)
            raise CursorExpired("the mirrored window moved")
        params: dict[str, Any] = {"calendarId": calendar_id, "singleEvents": False,
                                  "maxResults": PAGE_SIZE, "pageToken": state.get("page")}
        if state.get("sync"):
            params["syncToken"] = state["sync"]
        else:
            params.update(timeMin=state.get("min") or _utc(window.start),
                          timeMax=state.get("max") or _utc(window.end))
        data = await self._call(self._events.list(**params))
        zone = data.get("timeZone") if isinstance(data.get("timeZone"), str) else None
        self._zones[calendar_id] = zone or self._zones.get(calendar_id, "UTC")
        default_zone = self._zones[calendar_id]
        events = await _normalize(_items(data, "items"),
                                  lambda i: (i, event_from_json(i, calendar_id, default_zone)))
        changed, removed = _split(events, window, incremental="syncToken" in params)
        if data.get("nextPageToken"):
            next_state = {**state, "page": data["nextPageToken"]}
            if "timeMin" in params:
                next_state.update(min=params["timeMin"], max=params["timeMax"])
            return SyncPage(changed, removed, _cursor(next_state), False)
        if not isinstance(data.get("nextSyncToken"), str):
            raise UpstreamError("google answered a malformed payload (field nextSyncToken)")
        return SyncPage(changed, removed, _cursor({"sync": data["nextSyncToken"], "day": day}),
                        True)

    async def _zone(self, calendar_id: str) -> str:
        if calendar_id not in self._zones:
            await self.list_calendars()
        return self._zones.get(calendar_id, "UTC")

    async def _event(self, calendar_id: str, data: Json) -> Event:
        zone = await self._zone(calendar_id)
        try:
            event = event_from_json(data, calendar_id, zone)
        except Malformed as exc:
            raise UpstreamError(f"google answered a malformed payload (field {exc})") from None
        if event is None:
            raise UpstreamNotFound("google has no such event (deleted)")
        return event

    async def get_event(self, calendar_id: str, event_id: str) -> Event:
        data = await self._call(self._events.get(calendarId=calendar_id, eventId=event_id))
        return await self._event(calendar_id, data)

    async def create_event(self, calendar_id: str, draft: EventDraft) -> Event:
        if draft.start is None or draft.end is None:
            raise BadRequest("start and end are required", code="bad_request")
        body = draft_to_json(draft)
        data = await self._call(self._events.insert(calendarId=calendar_id, body=body))
        return await self._event(calendar_id, data)

    async def update_event(self, calendar_id: str, event_id: str, draft: EventDraft) -> Event:
        body = draft_to_json(draft)
        if not body:
            return await self.get_event(calendar_id, event_id)
        data = await self._call(self._events.patch(
            calendarId=calendar_id, eventId=event_id, body=body))
        return await self._event(calendar_id, data)

    async def delete_event(self, calendar_id: str, event_id: str) -> None:
        await self.transport.call(self._events.delete(calendarId=calendar_id, eventId=event_id))

    async def occurrence_id(self, calendar_id: str, series_id: str,
                            original_start: Moment) -> str:
        """Google's instance id: the series id, ``_``, the original start in UTC
        (``YYYYMMDDTHHMMSSZ``) or, for all-day series, its date (``YYYYMMDD``)."""
        if isinstance(original_start, datetime):
            return f"{series_id}_{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        return f"{series_id}_{original_start:%Y%m%d}"

    async def sync_contacts(self, cursor: str | None) -> ContactPage:
        state = _read_cursor(cursor)
        data = await self._call(self.people.people().connections().list(
            resourceName="people/me", personFields=PERSON_FIELDS, pageSize=CONTACT_PAGE_SIZE,
            requestSyncToken=True, syncToken=state.get("sync"), pageToken=state.get("page")))
        people = await _normalize(_items(data, "connections"),
                                  lambda p: (p, contact_from_json(p)))
        changed = tuple(c for _, c in people if c is not None)
        removed = tuple(p["resourceName"] for p, c in people if c is None)
        if data.get("nextPageToken"):
            return ContactPage(changed, removed, _cursor({**state, "page": data["nextPageToken"]}),
                               False)
        if not isinstance(data.get("nextSyncToken"), str):
            raise UpstreamError("google answered a malformed payload (field nextSyncToken)")
        return ContactPage(changed, removed, _cursor({"sync": data["nextSyncToken"]}), True)

    async def create_contact(self, draft: ContactDraft) -> Contact:
        data = await self._call(self.people.people().createContact(
            body=contact_to_json(draft), personFields=PERSON_FIELDS))
        try:
            contact = contact_from_json(data)
        except Malformed as exc:
            raise UpstreamError(f"google answered a malformed payload (field {exc})") from None
        if contact is None:
            raise UpstreamError("google answered a malformed payload (deleted contact)")
        return contact

    async def watch(self, calendar_id: str, primary: bool, target: PushTarget) -> PushChannel:
        """``events.watch`` on the calendar (``primary`` needs nothing special: Google's
        primary calendar id is the address); the sync message may arrive before this
        returns, which the hook acknowledges without knowing the channel."""
        data = await self._call(self._events.watch(calendarId=calendar_id,
                                                   body=watch_body(target)))
        return channel_from_json(data, target)

    async def renew(self, channel: PushChannel, expires: datetime) -> PushChannel:
        """Google has no way to extend a channel (``push.renews_in_place`` is false)."""
        raise UpstreamNotFound("google channels are renewed by a new channel")

    async def unwatch(self, channel: PushChannel) -> None:
        """``channels.stop``; a channel Google no longer has (404, 410) is already stopped."""
        try:
            await self.transport.call(self.calendar.channels().stop(body=stop_body(channel)))
        except UpstreamNotFound:
            return

    async def close(self) -> None:
        return None


def _items(data: Json, key: str) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise UpstreamError(f"google answered a malformed payload (field {key})")
    return items


def _calendar(item: Any) -> Calendar:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise Malformed("id")
    return Calendar(provider_id=item["id"],
                    name=str(item.get("summaryOverride") or item.get("summary") or item["id"]),
                    is_primary=bool(item.get("primary")),
                    can_write=item.get("accessRole") in ("owner", "writer"),
                    time_zone=item.get("timeZone"))


def _split(events: list[tuple[Any, Event | None]], window: Window, incremental: bool) -> tuple[
        tuple[Event, ...], tuple[str, ...]]:
    """Changed events and removed ids; in incremental rounds, events that left the window
    count as removed (series masters always stay: the core expands them)."""
    changed: list[Event] = []
    removed: list[str] = []
    for item, event in events:
        if event is None:
            removed.append(item["id"])
        elif incremental and not event.is_series_master and not _overlaps(event, window):
            removed.append(event.provider_id)
        else:
            changed.append(event)
    return tuple(changed), tuple(removed)


def _overlaps(event: Event, window: Window) -> bool:
    """Cancelled occurrences may lack times: their original start places them."""
    start = event.recurrence.original_start if (
        event.recurrence and event.status is EventStatus.CANCELLED) else event.start
    return (to_utc(event.end, event.time_zone) >= window.start
            and to_utc(start or event.start, event.time_zone) < window.end)
