"""The provider hooks: ``POST /hooks/graph``, ``POST /hooks/graph/lifecycle``,
``POST /hooks/google``.

They need no bearer token (the providers send none): a notice is believed only when its
channel is one the store holds and the secret it carries hashes to the stored SHA-256
(compared in constant time). Everything else (an unknown channel, a wrong or missing
secret, a channel of another service) is answered 2xx all the same, so that Graph and
Google stop retrying it, counted as ``ignored`` and otherwise dropped: it reaches no
provider. A body or header set no provider would send is answered 400 in the error shape.

Answers go out at once (Graph 202, Google 200; Graph's validation handshake 200
``text/plain`` with the decoded token and ``X-Content-Type-Options: nosniff``, since the
token is whatever the caller chose): the work a notice causes (a sync round, a
renewal) runs afterwards, in :class:`~.nudges.Nudger` and :class:`~.channels.PushKeeper`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Coroutine, Iterator
from typing import Any

from aiohttp import web

from proxy.core.model import Service
from proxy.errors import DatabaseUnavailable
from proxy.notifications.push.channels import PushKeeper
from proxy.notifications.push.google_hook import parse_google
from proxy.notifications.push.graph_hook import parse_graph
from proxy.notifications.push.notices import Handshake, Kind, MalformedNotice, Notice
from proxy.notifications.push.nudges import Nudger
from proxy.operations.metrics import count_push_notice
from proxy.store.interface import Store
from proxy.store.records import PushChannelRecord
from proxy.store.sql_base import sha256_hex

log = logging.getLogger(__name__)

ACCEPTED, IGNORED, HANDSHAKE, MALFORMED = "accepted", "ignored", "handshake", "malformed"
#: Google's first message of a channel, acknowledged without a look-up
SYNCED = "sync"


class Hooks:
    """What the hook handlers act with: the store, the nudger, and this instance's keeper
    (``None`` where push is off: lifecycle notices then only sync)."""

    def __init__(self, store: Store, nudger: Nudger, keeper: PushKeeper | None) -> None:
        self.store, self.nudger, self.keeper = store, nudger, keeper
        self._tasks: set[asyncio.Task[None]] = set()

    async def dispatch(self, service: Service, notice: Notice) -> str:
        """Act on one notice; its outcome (``accepted`` or ``ignored``)."""
        record = await self._channel(notice.upstream_id)
        if record is None or not _believed(record, service, notice):
            return IGNORED
        if notice.kind in (Kind.CHANGE, Kind.MISSED):
            self.nudger.nudge(record.calendar_id)
        elif notice.kind is Kind.REAUTHORIZE:
            self.nudger.nudge(record.calendar_id)  # changes while paused were not told
            if self.keeper is not None:
                self._later(self.keeper.renew_now(record))
        elif notice.kind is Kind.REMOVED:
            if self.keeper is not None:
                self._later(self.keeper.resubscribe(record))  # it nudges after
            else:
                self.nudger.nudge(record.calendar_id)
        return ACCEPTED  # Kind.SYNC: a new channel's first message, acknowledged only

    async def _channel(self, upstream_id: str) -> PushChannelRecord | None:
        try:
            return await self.store.push_channel_by_upstream(upstream_id)
        except Exception as exc:  # answered 503: the provider retries later
            log.warning("push channel lookup failed (%s)", type(exc).__name__)
            raise DatabaseUnavailable("The store cannot be read right now.") from None

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name="calproxy-push-lifecycle")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _believed(record: PushChannelRecord, service: Service, notice: Notice) -> bool:
    """The notice names this service's channel and carries its secret (constant time)."""
    if record.service is not service or notice.secret is None:
        return False
    if notice.resource_id and record.resource_id and notice.resource_id != record.resource_id:
        return False
    if not notice.secret.isascii():  # ours are URL-safe ASCII; others may not even encode
        return False  # (header bytes that are not UTF-8 arrive as lone surrogates)
    return hmac.compare_digest(sha256_hex(notice.secret), record.secret_hash)


HOOKS = web.AppKey("push_hooks", Hooks)


async def graph_notifications(request: web.Request) -> web.StreamResponse:
    """Graph change notifications (and the validation handshake)."""
    return await _graph(request, lifecycle=False)


async def graph_lifecycle(request: web.Request) -> web.StreamResponse:
    """Graph lifecycle notifications (and their validation handshake)."""
    return await _graph(request, lifecycle=True)


async def _graph(request: web.Request, lifecycle: bool) -> web.StreamResponse:
    service = Service.GRAPH
    body = await request.read()
    with _counted_if_malformed(service):
        parsed = parse_graph(request.query, body, lifecycle)
    if isinstance(parsed, Handshake):
        count_push_notice(service.value, HANDSHAKE)
        # the token is the sender's own text, echoed: never let a browser sniff it as HTML
        return web.Response(text=parsed.token, content_type="text/plain",
                            headers={"X-Content-Type-Options": "nosniff"})
    hooks = request.app[HOOKS]
    for notice in parsed:
        count_push_notice(service.value, await hooks.dispatch(service, notice))
    return web.Response(status=202)


async def google_notification(request: web.Request) -> web.StreamResponse:
    """A Google Calendar push message (everything is in its headers; what each answer
    means to Google: :mod:`.google_hook`). A ``sync`` message is acknowledged unread: it
    may come before the watch call returned, and it announces no change."""
    service = Service.GOOGLE
    with _counted_if_malformed(service):
        notice = parse_google(request.headers)
    if notice.kind is Kind.SYNC:
        count_push_notice(service.value, SYNCED)
        return web.Response(status=200)
    outcome = await request.app[HOOKS].dispatch(service, notice)
    count_push_notice(service.value, outcome)
    return web.Response(status=200)


@contextlib.contextmanager
def _counted_if_malformed(service: Service) -> Iterator[None]:
    try:
        yield
    except MalformedNotice:
        count_push_notice(service.value, MALFORMED)
        raise


ROUTES: list[tuple[str, str, object]] = [
    ("POST", "/hooks/graph", graph_notifications),
    ("POST", "/hooks/graph/lifecycle", graph_lifecycle),
    ("POST", "/hooks/google", google_notification),
]

