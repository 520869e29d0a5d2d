"""Leases: one holder at a time for a key, across every instance on one database.

:meth:`Leases.hold` takes a lease row (see :mod:`proxy.store.sql_sync`), and
:meth:`Leases.keep` keeps one already taken (a sync round takes its lease together with a
mailbox slot in one transaction): either renews it every :data:`RENEW_SECONDS` while the
caller works, and deletes the row when the caller is done (or fails, or is cancelled),
unless the caller's commit released it already (:attr:`Held.released`). An instance that
dies stops renewing, so its leases lapse :data:`LEASE_SECONDS` after their last renewal
and another instance carries on. A holder whose renewal failed (the lease lapsed, say
after a long pause) is told so through :attr:`Held.lost`; and whatever it believes, its
commit is refused by the store once the lease is no longer its own (:meth:`Leases.fence`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from proxy.store.interface import Store
from proxy.store.records import LeaseFence

log = logging.getLogger(__name__)

#: a dead holder's lease lapses at most this long after its last renewal
LEASE_SECONDS = 15.0
#: how often a live holder renews
RENEW_SECONDS = 5.0


def instance_id() -> str:
    """A name for this process among the instances (lease holder, relay origin)."""
    return f"{os.getpid()}-{secrets.token_hex(8)}"


@dataclass
class Held:
    """A lease this instance holds, with the keys taken along with it (a mailbox slot),
    which are renewed and released with it."""

    key: str
    also: tuple[str, ...] = ()
    lost: bool = False
    #: the round's commit released the rows already (nothing left to delete)
    released: bool = False


class Leases:
    """Leases of one instance (``holder``) in ``store``."""

    def __init__(self, store: Store, holder: str | None = None,
                 seconds: float = LEASE_SECONDS, renew: float = RENEW_SECONDS) -> None:
        self.store = store
        self.holder = holder or instance_id()
        self.seconds, self.renew = seconds, renew

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[Held | None]:
        """Yield a :class:`Held` while this instance holds ``key``; ``None`` when another
        instance holds it (nothing is held then, and nothing to release)."""
        if not await self.store.acquire_lease(key, self.holder, self.seconds):
            yield None
            return
        async with self.keep(Held(key)) as held:
            yield held

    @contextlib.asynccontextmanager
    async def keep(self, held: Held) -> AsyncIterator[Held]:
        """Renew ``held`` (taken already, by this holder) while the caller works; release
        what the caller's commit did not."""
        renewing = asyncio.create_task(self._renew(held))
        try:
            yield held
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            if not held.released:
                await asyncio.shield(self._release((held.key, *held.also)))

    def fence(self, held: Held) -> LeaseFence:
        """What the round's commit must check (and release) in its own transaction."""
        return LeaseFence(held.key, self.holder, held.also)

    async def _renew(self, held: Held) -> None:
        while True:
            await asyncio.sleep(self.renew)
            try:
                for key in held.also:  # a lapsed slot only loosens the cap for a moment
                    await self.store.renew_lease(key, self.holder, self.seconds)
                renewed = await self.store.renew_lease(held.key, self.holder, self.seconds)
            except Exception as exc:  # the store is down: the lease will lapse by itself
                log.warning("lease renewal failed: %s", type(exc).__name__)
                renewed = False
            if not renewed:
                held.lost = True
                return

    async def _release(self, keys: tuple[str, ...]) -> None:
        try:
            for key in keys:
                await self.store.release_lease(key, self.holder)
        except Exception as exc:  # it lapses by itself
            log.warning("lease release failed: %s", type(exc).__name__)

    async def held_elsewhere(self, key: str) -> bool:
        holder = await self.store.lease_holder(key)
        return holder is not None and holder != self.holder
