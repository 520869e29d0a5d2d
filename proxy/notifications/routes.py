"""The HTTP side of notifications out: ``/v1/me/webhooks`` and the change stream.

Handlers stay thin: who may subscribe is the access rules' answer (a subscriber must be able
to read the user's ``/events`` or ``/freebusy``: anyone in the owner's account whose policy
serves calendar data), and what a subscriber is told is :mod:`.views`'.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from proxy.actions.target import resolve_target
from proxy.errors import BadRequest, Forbidden, NotFound
from proxy.http.auth import current_user
from proxy.http.input import get_str, json_body, only_fields
from proxy.http.keys import SETTINGS, STORE
from proxy.http.replies import json_reply
from proxy.notifications.retention import ChangeLogPruner
from proxy.notifications.signing import new_secret
from proxy.notifications.subscribers import current_viewer
from proxy.notifications.targets import vet_url
from proxy.notifications.tracker import ChangeTracker
from proxy.notifications.views import Viewer
from proxy.notifications.webhooks import Deliverer
from proxy.operations.audit_http import audit_webhook, removal_recorder
from proxy.store.changes import Change, Topic
from proxy.store.records import User, Webhook

TRACKER = web.AppKey("change_tracker", ChangeTracker)
DELIVERER = web.AppKey("webhook_deliverer", Deliverer)
PRUNER = web.AppKey("change_log_pruner", ChangeLogPruner)
#: seconds between keep-alive comments on a change stream
HEARTBEAT = web.AppKey("stream_heartbeat", float)
WATCH_FOR = timedelta(hours=1)
MAX_WEBHOOKS = 25


def webhook_json(webhook: Webhook, owner: User | None) -> dict[str, Any]:
    return {"id": webhook.id, "url": webhook.url,
            "user": owner.email if owner else webhook.owner_id, "status": webhook.status,
            "created": webhook.created.isoformat()}


async def _watched_owner(request: web.Request, ref: str) -> tuple[User, Viewer]:
    """The user whose changes the caller wants, and which viewer the caller is of them."""
    caller = current_user(request)
    owner = (await resolve_target(request.app[STORE], caller, ref)).owner  # 404 outsiders
    viewer = await current_viewer(request.app[STORE], caller.id, owner.id)
    if viewer is None:
        raise Forbidden("The account's policy allows no calendar access.", "policy_no_access")
    return owner, viewer


async def list_webhooks(request: web.Request) -> web.Response:
    store = request.app[STORE]
    hooks = await store.list_webhooks(current_user(request).id)
    return json_reply({"webhooks": [
        webhook_json(h, await store.get_user(h.owner_id)) for h in hooks]})


async def create_webhook(request: web.Request) -> web.Response:
    body = await json_body(request)
    only_fields(body, {"url", "user"})
    url = get_str(body, "url", required=True, max_len=2000) or ""
    owner, _ = await _watched_owner(request, get_str(body, "user") or "me")
    settings, store = request.app[SETTINGS], request.app[STORE]
    await vet_url(url, settings.webhook_allowed_hosts, settings.webhook_allow_http)
    caller = current_user(request)
    if len(await store.list_webhooks(caller.id)) >= MAX_WEBHOOKS:
        raise BadRequest(f"url: at most {MAX_WEBHOOKS} webhooks per user", "too_many_webhooks")
    secret = new_secret()
    webhook = await store.create_webhook(caller.id, owner.id, url, secret)
    await request.app[TRACKER].baseline(owner.id)
    audit_webhook(request, "webhook.created", webhook, owner)
    return json_reply({**webhook_json(webhook, owner), "secret": secret}, status=201)


async def delete_webhook(request: web.Request) -> web.Response:
    removed = await removal_recorder(request, request.match_info["id"])
    if not await request.app[STORE].delete_webhook(current_user(request).id,
                                                   request.match_info["id"]):
        raise NotFound("webhook: no such webhook", "webhook_not_found")
    removed()
    return web.Response(status=204)


def _last_event_id(request: web.Request) -> int | None:
    return parse_event_id(request.headers.get("Last-Event-ID", ""), "Last-Event-ID")


def parse_event_id(raw: str, name: str) -> int | None:
    """A stream's event id as a client sends it back (``None`` when empty)."""
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise BadRequest(f"{name}: expected an event id of this stream", "invalid_field")
    return int(raw)


async def follow(app: web.Application, owner_id: str) -> None:
    """Track the owner's changes from now on (for an hour; open streams renew it), with
    a snapshot of each calendar as it is now, so that the next change can be told."""
    await app[STORE].watch_owner(owner_id, datetime.now(UTC) + WATCH_FOR)
    await app[TRACKER].baseline(owner_id)


async def change_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events of the caller's view of the user's changes (DESIGN §11)."""
    owner, viewer = await _watched_owner(request, request.match_info["user"])
    return await stream_changes(request, current_user(request).id, owner.id, viewer,
                                _last_event_id(request))


async def stream_changes(request: web.Request, caller_id: str, owner_id: str,
                         viewer: Viewer, last: int | None) -> web.StreamResponse:
    """The stream itself, for the API and for the portal's week view: the entries after
    ``last`` (default: from now on), then each new one, a keep-alive comment between."""
    store = request.app[STORE]
    await follow(request.app, owner_id)
    if last is None:
        last = await store.newest_change(owner_id)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no"})
    await response.prepare(request)
    woken = asyncio.Event()

    def wake(change: Change) -> None:
        if change.topic is Topic.CHANGE_LOG and change.key == owner_id:
            woken.set()

    unsubscribe = store.changes.subscribe(wake)
    try:
        await _pump(request, response, woken, caller_id, owner_id, viewer, last)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        unsubscribe()
    return response


async def _pump(request: web.Request, response: web.StreamResponse, woken: asyncio.Event,
                caller_id: str, owner_id: str, viewer: Viewer | None, last: int) -> None:
    store, heartbeat = request.app[STORE], request.app[HEARTBEAT]
    watched_until = datetime.now(UTC) + WATCH_FOR
    while viewer is not None:
        woken.clear()
        for seq, body in await store.changes_after(owner_id, viewer.value, last):
            await response.write(f"id: {seq}\ndata: {json.dumps(body)}\n\n".encode())
            last = seq
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), heartbeat)
        if not woken.is_set():
            await response.write(b": keep-alive\n\n")
        if watched_until - datetime.now(UTC) < WATCH_FOR / 2:
            watched_until = datetime.now(UTC) + WATCH_FOR
            await store.watch_owner(owner_id, watched_until)
        viewer = await current_viewer(store, caller_id, owner_id)  # rights may change


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/v1/me/webhooks", list_webhooks),
    ("POST", "/v1/me/webhooks", create_webhook),
    ("DELETE", "/v1/me/webhooks/{id}", delete_webhook),
    ("GET", "/v1/users/{user}/changes", change_stream),
]
