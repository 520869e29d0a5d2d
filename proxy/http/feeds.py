"""Feed management and the secret ICS URL.

A feed is rendered only when its data changed: each feed's last answer is kept with a
fingerprint of what it came from (the feed's settings, its window's day, and the mirror
version of every calendar in it), so an unchanged feed and a conditional request are
answered without loading or rendering a single event. ETags hash the rendered (already
redacted) bytes, so they carry nothing a subscriber could not read in the feed itself.

The renderings are held in one LRU cache bounded by their bytes (:class:`Renderings`); a
feed that falls out of it is rendered again at its next request, exactly as one whose
data changed.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web
from cachetools import LRUCache

from proxy.actions.feeds import create_feed as make_feed
from proxy.actions.feeds import live_feeds, revoke_feed
from proxy.core.access import check_calendar_read
from proxy.core.mirror import MirroredEvent
from proxy.errors import NotFound
from proxy.http.auth import current_user
from proxy.http.conditional import etag_matches
from proxy.http.input import get_bool, get_choice, get_int, json_body, only_fields
from proxy.http.keys import CALENDARS, PRINCIPALS, SETTINGS, deps
from proxy.http.replies import json_reply
from proxy.http.views import feed_json
from proxy.ics import redact_for_feed, render_feed
from proxy.redaction import Detail
from proxy.store.records import Feed, User
from proxy.sync.driver import sync_window

DETAILS = {"busy": Detail.BUSY, "limited": Detail.LIMITED, "full": Detail.FULL}
#: bytes of feed renderings (plain and gzipped) held at most, over all feeds
MAX_FEED_BYTES = 32 * 1024 * 1024
CACHE_CONTROL = "private, max-age=300"
#: a sync cursor may serve a window that moved by up to a day (the Graph delta link's
#: slack): only this far inside the mirrored window is every listed occurrence known
LISTED_MARGIN = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Rendered:
    fingerprint: tuple[object, ...]
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime


def _rendered_bytes(rendered: Rendered) -> int:
    return len(rendered.body) + len(rendered.gzipped) + 1


class Renderings(LRUCache[str, Rendered]):
    """Each feed's last rendering by feed id, least recently served evicted first once
    their bytes pass ``max_bytes``; a rendering larger than the whole bound is served
    without being kept."""

    def __init__(self, max_bytes: int = MAX_FEED_BYTES) -> None:
        super().__init__(max_bytes, getsizeof=_rendered_bytes)

    def keep(self, feed_id: str, rendered: Rendered) -> None:
        if _rendered_bytes(rendered) <= self.maxsize:
            self[feed_id] = rendered
        else:
            self.pop(feed_id, None)


FEED_CACHE = web.AppKey("feed_cache", Renderings)


async def list_feeds(request: web.Request) -> web.Response:
    feeds = await live_feeds(deps(request.app), current_user(request))
    return json_reply({"feeds": [feed_json(f) for f in feeds]})


async def create_feed(request: web.Request) -> web.Response:
    body = await json_body(request)
    only_fields(body, {"detail", "include_private", "past_days", "future_days"})
    detail = get_choice(body, "detail", tuple(DETAILS), "busy")
    include_private = bool(get_bool(body, "include_private", False))
    feed, url = await make_feed(
        deps(request.app), current_user(request), detail, include_private,
        get_int(body, "past_days", 30, 0, 366), get_int(body, "future_days", 365, 1, 731))
    return json_reply(feed_json(feed, url), status=201)


async def delete_feed(request: web.Request) -> web.Response:
    await revoke_feed(deps(request.app), current_user(request), request.match_info["id"])
    request.app[FEED_CACHE].pop(request.match_info["id"], None)
    return web.Response(status=204)


async def serve_feed(request: web.Request) -> web.StreamResponse:
    feed = await request.app[PRINCIPALS].feed_for_secret(request.match_info["secret"])
    if feed is None:
        raise NotFound("No such feed.", "feed_not_found")
    owner = await _owner_allowed(request, feed)
    rendered = await _rendering(request, feed, owner.email)
    headers = {"ETag": rendered.etag, "Cache-Control": CACHE_CONTROL,
               "Last-Modified": format_datetime(rendered.last_modified, usegmt=True),
               "Vary": "Accept-Encoding"}
    if _not_modified(request, rendered):
        return web.Response(status=304, headers=headers)
    body = rendered.body
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body, headers["Content-Encoding"] = rendered.gzipped, "gzip"
    response = web.Response(body=body, headers=headers, charset="utf-8",
                            content_type="text/calendar")
    return response


async def _owner_allowed(request: web.Request, feed: Feed) -> User:
    """A feed is calendar data: it follows its owner's account policy like the API. The
    owner and the policy come from the principal cache, dropped by the same announcements
    as the API's lookups (a changed policy or user shows in the very next request)."""
    principals = request.app[PRINCIPALS]
    owner = await principals.get_user(feed.owner_id)
    account = await principals.account(owner.account_id) if owner else None
    if owner is None or account is None:
        raise NotFound("No such feed.", "feed_not_found")
    check_calendar_read((await principals.policy(account.id)).account_permissions)
    return owner


async def _rendering(request: web.Request, feed: Feed, name: str) -> Rendered:
    """The feed's current rendering: the cached one while nothing changed, else a new one."""
    service = request.app[CALENDARS]
    calendars = await service.fresh_calendars(feed.owner_id)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    fingerprint = (feed.detail, feed.include_private, feed.past_days, feed.future_days,
                   today, tuple(c.content_key for c in calendars))
    cache = request.app[FEED_CACHE]
    cached = cache.get(feed.id)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached
    start = today - timedelta(days=feed.past_days)
    end = today + timedelta(days=feed.future_days + 1)
    items = await service.feed_items(calendars, start, end)
    zone = next((c.time_zone for c in calendars if c.is_primary and c.time_zone), None)
    mirrored = sync_window(request.app[SETTINGS], today)
    listed = (max(start, mirrored.start), min(end, mirrored.end - LISTED_MARGIN))
    body = _render(feed, items, name, zone, listed)
    last_modified = datetime.now(UTC).replace(microsecond=0)
    if cached is not None and last_modified <= cached.last_modified:
        last_modified = cached.last_modified + timedelta(seconds=1)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    rendered = Rendered(fingerprint, body, gzip.compress(body, 6, mtime=0), etag,
                        last_modified)
    cache.keep(feed.id, rendered)
    return rendered


def _render(feed: Feed, items: list[MirroredEvent], name: str, zone: str | None,
            listed: tuple[datetime, datetime]) -> bytes:
    """Redact for the feed's audience and write RFC 5545.

    DTSTAMP comes from the edit times the audience may see only (a hidden event's edit
    time must not show), so equal data renders to equal bytes. ``listed`` is the part
    of the feed's window the mirror covers (series of listed occurrences are checked
    against their rules there).
    """
    detail = DETAILS[feed.detail]
    visible, withheld = redact_for_feed(items, detail, feed.include_private)
    stamps = [v.updated for v in visible if v.updated is not None]
    stamp = max(stamps, default=feed.created).astimezone(UTC).replace(microsecond=0)
    return render_feed(visible, name=name, detail=detail, generated_at=stamp,
                       withheld=withheld, time_zone=zone, listed_window=listed)


def _not_modified(request: web.Request, rendered: Rendered) -> bool:
    match = etag_matches(request, rendered.etag)
    if match is not None:
        return match
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return rendered.last_modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
