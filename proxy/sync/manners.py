"""Provider manners: how hard calproxy may lean on one mailbox.

Microsoft Graph allows 4 concurrent requests per app and mailbox and answers 429 with
``Retry-After`` beyond that; Google and Exchange limit a user's request rate and answer
with back-off hints when it is exceeded. Every provider call (one page of a sync, one
write) passes this mailbox's gate first:

* at most :data:`CAPS` calls of one mailbox at once. With several instances on one
  database (``shared``), each call also holds one of the mailbox's lease slots
  (``slot:<service>:<mailbox>:<n>``, :mod:`proxy.sync.leases`), so the cap holds for the
  whole deployment, not per process;
* a call that ends in :class:`~proxy.errors.UpstreamThrottled` (Graph's and Google's
  ``Retry-After``, EWS ``ErrorServerBusy`` back-off) pauses that mailbox, and only it: its
  later calls wait out the pause, or, when the pause is longer than
  :data:`LONGEST_WAIT`, are answered 503 at once with the time left, without a request.
  With several instances the pause is shared: a lease row ``pause:<service>:<mailbox>``
  lives until it ends, and no instance takes a slot of that mailbox meanwhile (each
  learns of it at its next attempt, before any request).

A sync round takes its turn once for all its pages (:meth:`Manners.round`): it holds one
of the mailbox's places in this process for the whole round, and the shared slot is
taken in the same transaction as the round's lease (and released by its commit), so the
pages themselves cost the database nothing.

Each provider module keeps its own per-process limits as well; this gate is the one that
spans instances and pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from proxy.core.model import Service
from proxy.errors import UpstreamThrottled
from proxy.providers.base import Provider
from proxy.sync.leases import Held, Leases

log = logging.getLogger(__name__)

#: concurrent calls per mailbox (Graph documents 4; Google and EWS get the same courtesy)
CAPS = {Service.GRAPH: 4, Service.GOOGLE: 4, Service.EWS_O365: 4, Service.EXCHANGE_EWS: 4}
DEFAULT_CAP = 4
#: a call waits at most this long for a paused mailbox before answering 503
LONGEST_WAIT = 5.0
#: a call waits at most this long for a free slot across instances before answering 503
SLOT_WAIT = 30.0


@dataclass
class _Mailbox:
    slots: asyncio.Semaphore
    resume_at: float = 0.0  # monotonic time at which a throttling pause ends


@dataclass
class Turn:
    """A sync round's turn at one mailbox (see :meth:`Manners.round`)."""

    manners: Manners
    service: Service
    key: str
    #: the shared slot keys to try, in this round's order (empty: caps per process only)
    slots: tuple[str, ...]
    #: the mailbox's shared pause key (None: pauses per process only)
    pause: str | None
    #: the shared slot the round took with its lease (its pages then need no other)
    slot: str | None = None


#: the turns the current task holds, by mailbox
_TURNS: ContextVar[dict[tuple[Service, str], Turn] | None] = ContextVar("calproxy_turns",
                                                                       default=None)


class Manners:
    """The gates of every mailbox this instance talks to."""

    def __init__(self, leases: Leases | None = None) -> None:
        #: the deployment-wide slots and pauses; None keeps both per process (one instance)
        self.leases = leases
        self._boxes: dict[tuple[Service, str], _Mailbox] = {}

    def cap(self, service: Service) -> int:
        return CAPS.get(service, DEFAULT_CAP)

    def pause(self, service: Service, key: str, seconds: float) -> None:
        """Pause the mailbox in this process (another instance's pause, learned)."""
        box = self._box(service, key)
        box.resume_at = max(box.resume_at, time.monotonic() + seconds)

    async def throttled(self, service: Service, key: str, seconds: float) -> None:
        """The provider asked to slow down: pause the mailbox here and, shared, for every
        instance."""
        self.pause(service, key, seconds)
        if self.leases is not None:
            try:
                await self.leases.store.pause_key(self._pause_key(service, key), seconds)
            except Exception as exc:  # the others learn from their own throttled answer
                log.warning("sharing a throttling pause failed: %s", type(exc).__name__)

    def paused_for(self, service: Service, key: str) -> float:
        return max(0.0, self._box(service, key).resume_at - time.monotonic())

    @contextlib.asynccontextmanager
    async def round(self, service: Service, key: str) -> AsyncIterator[Turn]:
        """One sync round's turn at the mailbox: waits out a pause (503 beyond
        :data:`LONGEST_WAIT`), then holds one of the mailbox's places in this process
        until the round ends. The caller takes a shared slot with its lease (offering
        :attr:`Turn.slots`) and notes it in :attr:`Turn.slot`; the round's provider calls
        in this task then pass the gate without asking again."""
        box = self._box(service, key)
        await self._wait_out_pause(service, key)
        async with box.slots:
            await self._wait_out_pause(service, key)
            turn = Turn(self, service, key, self._slot_keys(service, key),
                        None if self.leases is None else self._pause_key(service, key))
            token = _TURNS.set({**(_TURNS.get() or {}), (service, key): turn})
            try:
                yield turn
            finally:
                _TURNS.reset(token)

    @contextlib.asynccontextmanager
    async def turn(self, service: Service, key: str) -> AsyncIterator[None]:
        """Hold one of the mailbox's slots for one provider call."""
        held = (_TURNS.get() or {}).get((service, key))
        if held is not None and held.manners is self:  # inside a round: its place holds
            await self._wait_out_pause(service, key)
            async with self._call(service, key, need_slot=held.slot is None):
                yield
            return
        await self._wait_out_pause(service, key)
        async with self._box(service, key).slots:
            await self._wait_out_pause(service, key)
            async with self._call(service, key, need_slot=True):
                yield

    @contextlib.asynccontextmanager
    async def _call(self, service: Service, key: str, need_slot: bool) -> AsyncIterator[None]:
        async with self._shared_slot(service, key, need_slot):
            try:
                yield
            except UpstreamThrottled as exc:
                await self.throttled(service, key, exc.retry_after)
                raise

    def polite(self, provider: Provider, service: Service, key: str) -> Provider:
        """``provider`` with every call passing this mailbox's gate."""
        return cast(Provider, _Polite(provider, self, service, key))

    def _box(self, service: Service, key: str) -> _Mailbox:
        box = self._boxes.get((service, key))
        if box is None:
            box = self._boxes[(service, key)] = _Mailbox(asyncio.Semaphore(self.cap(service)))
        return box

    def _slot_keys(self, service: Service, key: str) -> tuple[str, ...]:
        """The mailbox's shared slots, starting at a random one (so that callers spread
        over them); none without shared leases."""
        if self.leases is None:
            return ()
        cap, first = self.cap(service), random.randrange(self.cap(service))
        return tuple(f"slot:{service.value}:{key}:{(first + n) % cap}" for n in range(cap))

    @staticmethod
    def _pause_key(service: Service, key: str) -> str:
        return f"pause:{service.value}:{key}"

    async def _wait_out_pause(self, service: Service, key: str) -> None:
        left = self.paused_for(service, key)
        if left > LONGEST_WAIT:
            raise UpstreamThrottled(f"{service.value} asked calproxy to slow down for this "
                                    "mailbox", retry_after=left)
        if left > 0:
            await asyncio.sleep(left)

    @contextlib.asynccontextmanager
    async def _shared_slot(self, service: Service, key: str,
                           need: bool) -> AsyncIterator[None]:
        if self.leases is None or not need:
            yield
            return
        leases, deadline, delay = self.leases, time.monotonic() + SLOT_WAIT, 0.01
        while True:
            taken = await leases.store.take_slot(self._slot_keys(service, key),
                                                 self._pause_key(service, key),
                                                 leases.holder, leases.seconds)
            if taken.slot is not None:
                async with leases.keep(Held(taken.slot)):
                    yield
                return
            if taken.paused_for > 0:  # another instance was throttled: wait or answer 503
                self.pause(service, key, taken.paused_for)
                await self._wait_out_pause(service, key)
                continue
            if time.monotonic() > deadline:
                raise UpstreamThrottled("every request slot of this mailbox stayed busy",
                                        retry_after=5)
            await asyncio.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.2)


class _Polite:
    """A provider whose every call goes through :meth:`Manners.turn`."""

    def __init__(self, inner: Provider, manners: Manners, service: Service,
                 key: str) -> None:
        self.inner, self.manners, self.service, self.key = inner, manners, service, key

    @property
    def capabilities(self) -> Any:
        return self.inner.capabilities

    async def _call(self, name: str, *args: Any) -> Any:
        async with self.manners.turn(self.service, self.key):
            return await getattr(self.inner, name)(*args)

    async def check(self) -> Any:
        return await self._call("check")

    async def list_calendars(self) -> Any:
        return await self._call("list_calendars")

    async def sync_events(self, calendar_id: str, cursor: str | None, window: Any) -> Any:
        return await self._call("sync_events", calendar_id, cursor, window)

    async def get_event(self, calendar_id: str, event_id: str) -> Any:
        return await self._call("get_event", calendar_id, event_id)

    async def create_event(self, calendar_id: str, draft: Any) -> Any:
        return await self._call("create_event", calendar_id, draft)

    async def update_event(self, calendar_id: str, event_id: str, draft: Any) -> Any:
        return await self._call("update_event", calendar_id, event_id, draft)

    async def delete_event(self, calendar_id: str, event_id: str) -> Any:
        return await self._call("delete_event", calendar_id, event_id)

    async def occurrence_id(self, calendar_id: str, series_id: str, original_start: Any) -> Any:
        return await self._call("occurrence_id", calendar_id, series_id, original_start)

    async def sync_contacts(self, cursor: str | None) -> Any:
        return await self._call("sync_contacts", cursor)

    async def create_contact(self, draft: Any) -> Any:
        return await self._call("create_contact", draft)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        """Anything else the provider offers (counters, newer calls) passes through."""
        return getattr(self.inner, name)
