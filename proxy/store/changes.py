"""What the store announces after each committed write, for the caches that hold it.

Every mutating store method announces one :class:`Change` per thing it changed, after its
transaction committed, to the store's :class:`Changes` hub. In-process listeners (read
caches, feed renderings, notifications) are called synchronously, so a write is visible to
the very next read of this process. A :class:`Relay` carries announcements to the other
instances of a deployment (PostgreSQL ``LISTEN/NOTIFY``, Redis pub/sub) and hands theirs
back through :meth:`Changes.deliver`. Without a relay (SQLite, one process) the hub is
purely local.

Keys are the id of the changed row: a calendar id for ``CALENDAR`` (its events, cursor,
freshness or flags), a user id for ``USER`` and ``INTEGRATION`` (the integration's owner),
the owner's id for ``DELEGATION``, an account id for ``ACCOUNT``, a feed id for ``FEED``,
an integration id for ``CONTACTS``, a user id for ``PORTAL`` (their browser sessions,
sign-in links and bound identities).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


class Topic(enum.StrEnum):
    ACCOUNT = "account"
    USER = "user"
    INTEGRATION = "integration"
    DELEGATION = "delegation"
    CALENDAR = "calendar"
    CONTACTS = "contacts"
    FEED = "feed"
    PORTAL = "portal"
    #: new entries in an owner's change log (key: owner id): streams wake up
    CHANGE_LOG = "change_log"


@dataclass(frozen=True, slots=True)
class Change:
    topic: Topic
    key: str


Listener = Callable[[Change], None]


class Relay(Protocol):
    """Carries local announcements to the other instances (must not block)."""

    def publish(self, change: Change) -> None: ...

    async def flush(self) -> None:
        """Wait (briefly) until what was published has left for the other instances."""


class Changes:
    """The hub: local listeners, and optionally a relay to other instances."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, bool | None]] = []
        self.relay: Relay | None = None

    def subscribe(self, listener: Listener, *, local_only: bool = False,
                  relayed_only: bool = False) -> Callable[[], None]:
        """Call ``listener`` for every change, local or relayed (``local_only``: for changes
        this process committed only, e.g. work one instance must do once;
        ``relayed_only``: for the other instances' changes only); returns an
        unsubscribe."""
        entry: tuple[Listener, bool | None] = (listener, True if local_only else (
            False if relayed_only else None))
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry)

    def announce(self, change: Change) -> None:
        """A change committed by this process: tell local listeners, then the others."""
        self._dispatch(change, relayed=False)
        if self.relay is not None:
            self.relay.publish(change)

    def deliver(self, change: Change) -> None:
        """A change another instance committed (a relay calls this)."""
        self._dispatch(change, relayed=True)

    def _dispatch(self, change: Change, relayed: bool) -> None:
        for listener, local in list(self._listeners):  # local: None for both kinds
            if local is not None and local == relayed:
                continue
            try:
                listener(change)
            except Exception as exc:  # one broken cache must not fail a committed write
                log.error("change listener failed: %s", type(exc).__name__)
