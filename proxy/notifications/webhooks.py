"""Delivering the change log to webhooks: signed, retried, never into the local network.

Each webhook has a cursor in the change log. A background task finds webhooks with
entries past their cursor, leases one (``claimed_until``: one instance delivers it), works
out which viewer the subscriber is *now*, and POSTs that viewer's next entry with the
Standard Webhooks headers (one entry per webhook per round, so that webhooks take turns;
a delivered entry starts the next round at once, so a backlog drains at the receivers'
pace). A 2xx answer within 10 s moves the cursor; anything else is
retried after about 5 s, 30 s, 2 min, 10 min, 1 h, then hourly, with the same
``webhook-id``; after 24 hours of failures (or a 410) the webhook is disabled. Redirects
are not followed, and the connection's addresses are vetted when it is made (a name that
resolves elsewhere after the webhook was created is still refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from proxy.errors import BadRequest
from proxy.notifications.signing import delivery_headers
from proxy.notifications.subscribers import current_viewer
from proxy.notifications.targets import is_public
from proxy.operations.metrics import count_notification
from proxy.store.changes import Change, Topic
from proxy.store.interface import Store
from proxy.store.records import Webhook

log = logging.getLogger(__name__)
RETRY_DELAYS: tuple[float, ...] = (5, 30, 120, 600, 3600)
GIVE_UP_AFTER = timedelta(hours=24)
TIMEOUT_SECONDS = 10
LEASE = timedelta(seconds=TIMEOUT_SECONDS + 20)
POLL_SECONDS = 1.0


def retry_delay(attempts: int, delays: tuple[float, ...] = RETRY_DELAYS) -> timedelta:
    """How long to wait after the ``attempts``-th failure in a row (then hourly)."""
    index = attempts - 1
    return timedelta(seconds=delays[index] if index < len(delays) else 3600)


class VettingResolver(AbstractResolver):
    """Resolves like the default resolver, then refuses non-public addresses unless the
    host is listed (checked at connection time, so DNS cannot change the answer later)."""

    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        self._inner = DefaultResolver()
        self._allowed = set(allowed_hosts)

    async def resolve(self, host: str, port: int = 0,
                      family: Any = 0) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if host in self._allowed:
            return found
        public = [r for r in found if is_public(r["host"])]
        if len(public) != len(found) or not public:
            raise OSError(f"refusing to deliver to non-public addresses of {host}")
        return public

    async def close(self) -> None:
        await self._inner.close()


class Deliverer:
    def __init__(self, store: Store, allowed_hosts: Sequence[str]) -> None:
        self.store = store
        self._allowed = allowed_hosts
        #: seconds after the 1st, 2nd, ... failure in a row (then hourly)
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._unsubscribe = store.changes.subscribe(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.topic is Topic.CHANGE_LOG:
            self._wake.set()

    def start(self) -> None:
        connector = aiohttp.TCPConnector(resolver=VettingResolver(self._allowed),
                                         use_dns_cache=False)
        self._http = aiohttp.ClientSession(
            connector=connector, trust_env=False,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception as exc:
                log.error("webhook delivery round failed: %s", type(exc).__name__)

    async def deliver_due(self) -> None:
        for webhook in await self.store.due_webhooks(datetime.now(UTC)):
            if await self.store.claim_webhook(webhook.id, datetime.now(UTC) + LEASE):
                await self._deliver_next(webhook)

    async def _deliver_next(self, webhook: Webhook) -> None:
        viewer = await current_viewer(self.store, webhook.subscriber_id, webhook.owner_id)
        if viewer is None:  # the subscriber may see nothing of the owner any more
            await self.store.webhook_failed(webhook.id, webhook.attempts + 1,
                                            webhook.failing_since or datetime.now(UTC), None)
            return
        entries = await self.store.changes_after(webhook.owner_id, viewer.value,
                                                 webhook.delivered_seq, 1)
        if not entries:  # nothing for this viewer: skip the others' entries (never back)
            newest = await self.store.newest_change(webhook.owner_id)
            await self.store.webhook_delivered(webhook.id, max(newest, webhook.delivered_seq))
            return
        seq, body = entries[0]
        answer = await self._post(webhook, seq, body)
        if answer:
            await self.store.webhook_delivered(webhook.id, seq)
            count_notification("out", "webhook")
            self._wake.set()  # a backlog drains round after round, not one a second
        else:
            await self._failed(webhook, disable=answer is None)

    async def _post(self, webhook: Webhook, seq: int, body: dict[str, Any]) -> bool | None:
        """``True`` on 2xx; ``None`` when the receiver asked to be disabled (410)."""
        secret = await self.store.webhook_secret(webhook.id)
        assert self._http is not None and secret is not None
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = delivery_headers(secret, f"msg_{webhook.id}_{seq}", int(time.time()), raw)
        try:
            async with self._http.post(webhook.url, data=raw, headers=headers,
                                       allow_redirects=False) as response:
                if response.status == 410:
                    return None
                return 200 <= response.status < 300
        except (aiohttp.ClientError, OSError, TimeoutError, BadRequest):
            return False

    async def _failed(self, webhook: Webhook, disable: bool = False) -> None:
        now = datetime.now(UTC)
        since = webhook.failing_since or now
        attempts = webhook.attempts + 1
        give_up = disable or now - since >= GIVE_UP_AFTER
        retry = None if give_up else now + retry_delay(attempts, self.retry_delays)
        await self.store.webhook_failed(webhook.id, attempts, since, retry)
