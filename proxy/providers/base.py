"""The one small protocol every provider implements.

A provider object serves one integration (one user's connection to one service). It is
built by its module's factory from a :class:`Connection` and speaks only the common model;
its library's exceptions are mapped onto :mod:`proxy.errors` inside the provider module.
Cross-cutting rules (policy, write permissions, redaction, mirroring) live above this
layer and are enforced once for all providers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from proxy.core.model import (
    Calendar,
    Contact,
    ContactDraft,
    Event,
    EventDraft,
    Moment,
    Service,
)
from proxy.errors import Unprocessable

if TYPE_CHECKING:
    import aiohttp

    from proxy.config import Settings


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can do; the layers above refuse the rest uniformly."""

    write_events: bool = True
    read_contacts: bool = True
    write_contacts: bool = True


@dataclass(frozen=True, slots=True)
class Window:
    """The mirrored time range of a calendar (UTC instants)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class SyncPage:
    """One step of an event sync.

    ``changed`` are new or updated events (masters, occurrences, exceptions, cancelled
    occurrences); ``removed`` are provider ids gone since the cursor. ``next_cursor`` is
    what to pass next; ``done`` says that this page finished the round, in which case
    ``next_cursor`` is the cursor to store for the next incremental round, or ``None`` for
    a provider without incremental sync: the next round is then a full listing, and the
    driver reconciles removals from it.
    """

    changed: tuple[Event, ...]
    removed: tuple[str, ...]
    next_cursor: str | None
    done: bool


@dataclass(frozen=True, slots=True)
class ContactPage:
    changed: tuple[Contact, ...]
    removed: tuple[str, ...]
    next_cursor: str | None
    done: bool


class TokenSource(Protocol):
    """Hands out the integration's current OAuth access token.

    ``refresh`` is called after the provider answered 401: it obtains a new access
    token (rotating and storing the refresh token) or raises ``UpstreamAuthError``.
    """

    async def access_token(self) -> str: ...

    async def refresh(self) -> str: ...


@dataclass(frozen=True)
class Connection:
    """Everything a provider needs to reach one user's data."""

    settings: Settings
    http: aiohttp.ClientSession
    #: decrypted credentials: EWS ``ews_url``/``username``/``password``; empty for OAuth
    credentials: Mapping[str, str] = field(default_factory=dict)
    tokens: TokenSource | None = None
    #: a key unique to this integration (for per-mailbox concurrency limits and pools)
    mailbox_key: str = ""


class Provider(Protocol):
    capabilities: Capabilities

    async def check(self) -> str | None:
        """Prove the connection works (credentials, mailbox kind); raise a mapped error.

        Return the mailbox's identity where the provider names it (Graph: the signed-in
        user's id), else ``None``; public ids derive from it (:mod:`proxy.core.mirror`).
        """

    async def list_calendars(self) -> list[Calendar]: ...

    async def sync_events(
        self, calendar_id: str, cursor: str | None, window: Window
    ) -> SyncPage:
        """Advance the event sync of ``calendar_id``; ``cursor=None`` starts a full round.

        Raises :class:`proxy.errors.CursorExpired` when the stored cursor is no longer
        accepted; the caller then starts again with ``None``.
        """

    async def get_event(self, calendar_id: str, event_id: str) -> Event: ...

    async def create_event(self, calendar_id: str, draft: EventDraft) -> Event: ...

    async def update_event(self, calendar_id: str, event_id: str, draft: EventDraft) -> Event:
        """Apply the fields ``draft.given()`` names and return the updated event."""

    async def delete_event(self, calendar_id: str, event_id: str) -> None: ...

    async def occurrence_id(self, calendar_id: str, series_id: str,
                            original_start: Moment) -> str:
        """The id that addresses one occurrence of a series this provider delivered as a
        master (the core expanded it), so that a write changes that occurrence only.

        Providers that deliver expanded occurrences never have their series expanded by
        the core and may raise ``Unprocessable``.
        """

    async def sync_contacts(self, cursor: str | None) -> ContactPage: ...

    async def create_contact(self, draft: ContactDraft) -> Contact: ...

    async def close(self) -> None:
        """Release pools and sessions held for this integration."""


ProviderFactory = Callable[[Connection], Provider]


class DeliversOccurrences:
    """For providers whose sync delivers every occurrence with an id of its own (calendar
    views): the core never expands their series, so no occurrence needs addressing."""

    async def occurrence_id(self, calendar_id: str, series_id: str,
                            original_start: Moment) -> str:
        raise Unprocessable("This service addresses occurrences by their own ids.",
                            "occurrence_not_addressable")


@dataclass(frozen=True)
class OAuthSpec:
    """How a service authorizes: endpoints and scopes come from settings and policy."""

    authorize_url: Callable[[Settings], str]
    token_url: Callable[[Settings], str]
    client_id: Callable[[Settings], str | None]
    client_secret: Callable[[Settings], str | None]
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceEntry:
    """A registry row: how to build the provider, and how its users authorize."""

    factory: ProviderFactory
    oauth: OAuthSpec | None = None
    #: vets a credential-based integration's input (EWS URL) before connecting:
    #: ``(settings, credentials, allowed_hosts, service) -> None`` or a mapped error
    validate_connect: Callable[[Settings, Mapping[str, str], Sequence[str], Service],
                               Awaitable[None]] | None = None


# --- change notifications in (DESIGN §11): the optional push protocol -------------------
@dataclass(frozen=True, slots=True)
class PushTarget:
    """Where a channel's notices go and the secret they must carry."""

    #: ``{PUBLIC_URL}/hooks/graph`` or ``{PUBLIC_URL}/hooks/google``
    notification_url: str
    #: ``{PUBLIC_URL}/hooks/graph/lifecycle`` (Graph); ``None`` for Google
    lifecycle_url: str | None
    #: our random id (Google's channel ``id``; Graph ignores it)
    channel_id: str
    #: random: Graph's ``clientState`` / Google's channel ``token``; stored only hashed
    secret: str
    #: the expiry asked for (UTC); providers cap it
    expires: datetime


@dataclass(frozen=True, slots=True)
class PushChannel:
    """A channel as the provider granted it."""

    #: Graph's subscription id / Google's channel id
    upstream_id: str
    #: Google's ``resourceId`` (``channels.stop`` needs it); ``None`` for Graph
    resource_id: str | None
    #: what the provider granted (UTC)
    expires: datetime


@dataclass(frozen=True, slots=True)
class PushSupport:
    """How a provider's channels live."""

    #: the longest channel the provider grants (Graph 10,080 min less a margin; Google 7 days)
    lifetime: timedelta
    #: Graph: a PATCH keeps the id and the secret; Google: a new channel, then the old stopped
    renews_in_place: bool


@runtime_checkable
class Pushes(Protocol):
    """A provider that can tell calproxy of changes (Graph subscriptions, Google channels).

    Optional: the push keeper (:mod:`proxy.notifications.push.channels`) checks
    ``isinstance(provider, Pushes)``; polling serves every other provider and remains the
    safety net for these.
    """

    push: PushSupport

    async def watch(self, calendar_id: str, primary: bool, target: PushTarget) -> PushChannel:
        """Open a channel on ``calendar_id`` (the provider's id) whose notices go to
        ``target``. Graph: ``POST /subscriptions`` (``me/events`` for the primary calendar,
        else ``me/calendars/{id}/events``; ``created,updated,deleted``). Google:
        ``events.watch`` with ``type: web_hook``, ``address``, ``token``. Errors are mapped
        onto :mod:`proxy.errors`."""

    async def renew(self, channel: PushChannel, expires: datetime) -> PushChannel:
        """Extend ``channel`` in place (only when ``push.renews_in_place``); a channel gone
        upstream raises :class:`~proxy.errors.UpstreamNotFound`."""

    async def unwatch(self, channel: PushChannel) -> None:
        """Close ``channel`` (Graph ``DELETE /subscriptions/{id}``, Google
        ``channels.stop``); a channel already gone upstream is not an error."""
