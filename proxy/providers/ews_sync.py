"""Event sync over EWS: CalendarView for full rounds, SyncFolderItems for increments.

A full round records the folder's SyncFolderItems state first (ids, UIDs and item types
only, 512 per call), then expands the window with CalendarView and fetches bodies with
GetItem. Recording the state first means that anything changed meanwhile shows up again
in the next increment rather than being lost.

An increment asks SyncFolderItems what changed since the state (one call when fewer than
512 changes), fetches changed single items with one GetItem batch, and re-expands only
the series whose master changed (Exchange reports a changed or deleted occurrence as an
update of its master). To tell which occurrences of such a series disappeared, the
cursor keeps, per series, the original starts it delivered: the cursor is a compressed
JSON blob, opaque to the driver. A cursor whose window has moved to another day is
reported expired, so the driver resyncs in full and reconciles, bringing in occurrences
that entered the window.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from proxy.core.model import Event, Service
from proxy.core.timeutil import to_utc
from proxy.errors import CursorExpired
from proxy.providers import ews_ops as ops
from proxy.providers import ews_parse as parse
from proxy.providers.base import SyncPage, Window
from proxy.providers.ews_normalize import occurrence_id
from proxy.providers.ews_parse import MASTER, SERIES_PARTS, to_event, to_master
from proxy.providers.ews_session import EwsSession

PREFIX = "ews1."


@dataclass
class Cursor:
    state: str
    day: str
    #: master id -> (uid, original starts in epoch seconds delivered for it)
    series: dict[str, tuple[str, list[int]]] = field(default_factory=dict)

    def encode(self) -> str:
        raw = json.dumps({"s": self.state, "d": self.day, "m": self.series},
                         separators=(",", ":")).encode()
        return PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 6)).decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        if not text.startswith(PREFIX):
            raise CursorExpired("not an EWS cursor")
        try:
            data = json.loads(zlib.decompress(base64.urlsafe_b64decode(text[len(PREFIX):])))
            series = {k: (str(v[0]), [int(s) for s in v[1]]) for k, v in data["m"].items()}
            return cls(str(data["s"]), str(data["d"]), series)
        except (ValueError, KeyError, TypeError, zlib.error):
            raise CursorExpired("unreadable EWS cursor") from None


def _window_day(window: Window) -> str:
    return window.start.astimezone(UTC).date().isoformat()


def _kept(event: Event, window: Window) -> bool:
    """Events in the window, and every listed master (its DTSTART may lie before it)."""
    return event.occurrences_listed or _in_window(event, window)


def _in_window(event: Event, window: Window) -> bool:
    return (to_utc(event.end, event.time_zone) > window.start
            and to_utc(event.start, event.time_zone) < window.end)


class EventSync:
    """Runs the rounds for one calendar folder of one mailbox."""

    def __init__(self, session: EwsSession, folder: Any, calendar_id: str,
                 service: Service) -> None:
        self.session, self.folder = session, folder
        self.calendar_id, self.service = calendar_id, service

    async def full(self, window: Window) -> SyncPage:
        changes, state = await self.session.call(ops.sync_changes, self.folder, None)
        masters = {uid: item_id for _, item_id, _, uid, kind in changes
                   if kind == MASTER and uid}
        view = await self.session.call(ops.calendar_view, self.folder, window.start,
                                       window.end)
        cursor = Cursor(state, _window_day(window))
        events, _ = await self._expand(view, masters, cursor)
        return SyncPage(tuple(e for e in events if _kept(e, window)), (),
                        cursor.encode(), True)

    async def increment(self, text: str, window: Window) -> SyncPage:
        cursor = Cursor.decode(text)
        if cursor.day != _window_day(window):
            raise CursorExpired("the sync window moved; a full round brings new occurrences")
        changes, cursor.state = await self.session.call(ops.sync_changes, self.folder,
                                                        cursor.state)
        latest = {item_id: (kind, ck, uid, typ) for kind, item_id, ck, uid, typ in changes}
        removed: list[str] = []
        singles: list[tuple[str, str | None]] = []
        masters: dict[str, str] = {}
        for item_id, (kind, ck, uid, typ) in latest.items():
            if kind == "delete":
                removed.extend([*self._forget_series(cursor, item_id), item_id])
            elif typ == MASTER and uid:
                masters[uid] = item_id
                removed.append(item_id)  # unless delivered again below as a listed master
            else:
                singles.append((item_id, ck))
        changed = await self._singles(singles, window, removed)
        if masters:
            changed.extend(await self._reexpand(masters, cursor, window, removed))
        delivered = {e.provider_id for e in changed}
        gone = tuple(i for i in dict.fromkeys(removed) if i not in delivered)
        return SyncPage(tuple(changed), gone, cursor.encode(), True)

    async def _singles(self, ids: list[tuple[str, str | None]], window: Window,
                       removed: list[str]) -> list[Event]:
        if not ids:
            return []
        items = await self.session.call(ops.fetch, self.folder, ids)
        changed: list[Event] = []
        fetched = set()
        for item in items:
            event = to_event(item, self.calendar_id, self.service)
            fetched.add(event.provider_id)
            if _in_window(event, window):
                changed.append(event)
            else:
                removed.append(event.provider_id)
        removed.extend(i for i, _ in ids if i not in fetched)
        return changed

    async def _reexpand(self, masters: dict[str, str], cursor: Cursor, window: Window,
                        removed: list[str]) -> list[Event]:
        view = await self.session.call(ops.calendar_view, self.folder, window.start,
                                       window.end, set(masters))
        old = {m: self._forget_series(cursor, m) for m in masters.values()}
        events, unlisted = await self._expand(view, masters, cursor)
        fresh = {e.provider_id for e in events}
        for ids in old.values():
            removed.extend(i for i in ids if i not in fresh)
        removed.extend(unlisted)
        return [e for e in events if _kept(e, window)]

    async def _expand(self, view: list[parse.Hit], masters: dict[str, str],
                      cursor: Cursor) -> tuple[list[Event], list[str]]:
        """GetItem the CalendarView hits and the RecurringMasters of their series (one
        GetItem run); occurrences of unknown series wait for the next increment (their
        master was created after the recorded state). Answers the events, listed masters
        included, and the ids of masters whose pattern has no RRULE."""
        series = sorted({masters[h.uid] for h in view
                         if h.type in SERIES_PARTS and h.uid in masters})
        wanted = [(i.id, i.changekey) for i in view
                  if i.type not in SERIES_PARTS or i.uid in masters]
        wanted += [(m, None) for m in series]
        items = await self.session.call(ops.fetch, self.folder, wanted,
                                        ops.SERIES_PATHS) if wanted else []
        heads = [i for i in items if parse.series_key(i)[1] == MASTER]
        slots = {occ: slot for head in heads for occ, slot in parse.modified_occurrences(head)}
        events = [e for e in (self._part(i, masters, slots, cursor) for i in items
                              if parse.series_key(i)[1] != MASTER) if e is not None]
        listed = [m for m in (to_master(h, self.calendar_id, self.service) for h in heads)
                  if m is not None]
        kept = {m.provider_id for m in listed}
        return events + listed, [m for m in series if m not in kept]

    def _part(self, item: Any, masters: dict[str, str], slots: dict[str, datetime],
              cursor: Cursor) -> Event | None:
        """A single item, or an occurrence of a known series (remembered in the cursor)."""
        uid, kind = parse.series_key(item)
        master_id = masters.get(uid or "") if kind in SERIES_PARTS else None
        if kind in SERIES_PARTS and master_id is None:
            return None
        event = to_event(item, self.calendar_id, self.service, master_id,
                         slots.get(parse.item_id(item)[0]))
        if master_id is not None and event.recurrence is not None:
            entry = cursor.series.setdefault(master_id, (uid or "", []))
            original = event.recurrence.original_start
            assert isinstance(original, datetime)
            entry[1].append(int(original.timestamp()))
        return event

    @staticmethod
    def _forget_series(cursor: Cursor, master_id: str) -> list[str]:
        entry = cursor.series.pop(master_id, None)
        if entry is None:
            return []
        return [occurrence_id(master_id, datetime.fromtimestamp(s, UTC)) for s in entry[1]]
