"""The store's interface: everything the HTTP handlers and the sync driver may ask of it.

One implementation (SQLAlchemy 2 Core, async) serves SQLite and PostgreSQL. Every method
is one transaction; methods that write several rows (``apply_event_sync``,
``apply_contact_sync``, ``delete_integration``) are all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import EllipsisType
from typing import Any, Protocol

from proxy.core.mirror import MirroredEvent
from proxy.core.model import Calendar, Contact, Permissions, Service
from proxy.store.changes import Changes
from proxy.store.records import (
    Account,
    AuditRecord,
    CalendarRecord,
    Delegation,
    Feed,
    Integration,
    IntegrationStatus,
    LeaseFence,
    PushChannelRecord,
    Role,
    RoundClaim,
    RoundStart,
    SlotTaken,
    SyncSchedule,
    User,
    Webhook,
)


class Store(Protocol):
    #: announces every committed change to the caches (see :mod:`proxy.store.changes`)
    changes: Changes

    # --- lifecycle -------------------------------------------------------------------
    async def migrate(self) -> None:
        """Apply pending schema migrations (idempotent)."""

    async def close(self) -> None: ...

    async def ready(self) -> bool:
        """Whether the store answers a real read and every known migration is applied."""

    async def stalest_syncs(self) -> dict[str, datetime]:
        """Per service, the oldest sync time among synced calendars (for the sync lag)."""

    async def append_audit(self, records: Sequence[AuditRecord]) -> None:
        """Write a batch of audit records in one transaction."""

    async def list_audit(self, since: datetime, *, owner_id: str | None = None,
                         account_id: str | None = None, limit: int = 1000) -> list[AuditRecord]:
        """Records at or after ``since``, oldest first, of one owner or one account."""

    async def prune_audit(self, before: datetime) -> int:
        """Forget records older than ``before``; the number forgotten."""

    # --- accounts and users ------------------------------------------------------------
    async def create_account(self, name: str, settings: Mapping[str, Any]) -> Account: ...
    async def get_account(self, account_id: str) -> Account | None: ...
    async def save_account_settings(
        self, account_id: str, settings: Mapping[str, Any],
    ) -> Account: ...
    async def create_user(self, account_id: str, email: str, role: Role) -> User:
        """Emails are stored lower-case and unique; a duplicate raises ``Conflict``."""
    async def get_user(self, user_id: str) -> User | None: ...
    async def get_user_by_email(self, email: str) -> User | None: ...
    async def list_users(self, account_id: str) -> list[User]: ...
    async def record_sign_in(self, user_id: str) -> int:
        """Count this sign-in; return how many sign-ins there were before it."""

    # --- API tokens (only hashes are stored) -------------------------------------------
    async def create_token(self, user_id: str) -> str:
        """Issue a new random token and return it; only its hash is stored."""
    async def user_for_token(self, token: str) -> User | None: ...
    async def revoke_token(self, token: str) -> bool:
        """Forget the token (``False`` if unknown); it stops authenticating at once here and
        within the principal cache's time on other instances."""

    # --- integrations (credentials encrypted with the secret key) ------------------------
    async def create_integration(
        self, user_id: str, service: Service, status: IntegrationStatus,
        requested: Permissions, granted: Permissions, *, scopes: str = "",
        details: Mapping[str, str] | None = None, credentials: Mapping[str, str] | None = None,
        oauth_state: str | None = None, reason: str | None = None,
    ) -> Integration: ...
    async def get_integration(self, integration_id: str) -> Integration | None: ...
    async def integration_for_state(self, oauth_state: str) -> Integration | None: ...
    async def list_integrations(self, user_id: str) -> list[Integration]: ...
    async def list_account_integrations(self, account_id: str) -> list[Integration]: ...
    async def update_integration(
        self, integration_id: str, *, status: IntegrationStatus | None = None,
        reason: str | EllipsisType | None = ..., granted: Permissions | None = None,
        scopes: str | None = None, oauth_state: str | EllipsisType | None = ...,
        details: Mapping[str, str] | None = None, requested: Permissions | None = None,
    ) -> Integration:
        """Change the given fields (``...`` = leave as is; ``None`` for reason/state clears)."""
    async def get_credentials(self, integration_id: str) -> dict[str, str]:
        """Decrypted credentials (OAuth tokens, PKCE verifier, EWS password)."""
    async def set_credentials(
        self, integration_id: str, credentials: Mapping[str, str],
    ) -> None: ...
    async def delete_integration(self, integration_id: str) -> None:
        """Forget the integration, its credentials, calendars, mirrored events, contacts."""

    # --- delegations -----------------------------------------------------------------
    async def put_delegation(self, delegation: Delegation) -> Delegation: ...
    async def delete_delegation(self, owner_id: str, delegate_id: str) -> bool: ...
    async def get_delegation(self, owner_id: str, delegate_id: str) -> Delegation | None: ...
    async def list_delegates(self, owner_id: str) -> list[Delegation]: ...
    async def list_delegators(self, delegate_id: str) -> list[Delegation]: ...

    # --- feeds (only secret hashes are stored) ---------------------------------------------
    async def create_feed(
        self, owner_id: str, detail: str, include_private: bool, past_days: int,
        future_days: int,
    ) -> tuple[Feed, str]:
        """Create a feed; return it and its secret (shown once, stored hashed)."""
    async def list_feeds(self, owner_id: str) -> list[Feed]: ...
    async def revoke_feed(self, owner_id: str, feed_id: str) -> bool: ...
    async def feed_for_secret(self, secret: str) -> Feed | None:
        """The live feed whose secret this is (constant-time compare), else ``None``."""

    # --- calendars and the event mirror ------------------------------------------------------
    async def upsert_calendars(
        self, integration_id: str, calendars: Sequence[Calendar], synced_by_default: bool,
    ) -> list[CalendarRecord]:
        """Record the provider's calendars, keeping each known one's ``synced`` flag; a new
        calendar is synced when it is primary or ``synced_by_default``; calendars gone
        upstream are removed with their events."""
    async def list_calendars(self, integration_ids: Sequence[str]) -> list[CalendarRecord]: ...
    async def get_calendar(self, calendar_id: str) -> CalendarRecord | None: ...
    async def set_calendar_synced(self, calendar_id: str, synced: bool) -> CalendarRecord:
        """Unsyncing drops its mirrored events and cursor."""
    async def apply_event_sync(
        self, calendar_id: str, changed: Sequence[MirroredEvent], removed: Sequence[str],
        cursor: str | None, synced_at: datetime, full: bool, *,
        lease: LeaseFence | None = None,
    ) -> CalendarRecord:
        """Write one finished sync round in one transaction; the calendar as it now is.

        ``removed`` are provider ids. ``full=True`` means ``changed`` is the whole calendar:
        every mirrored event not in it is deleted (deletion reconciliation). With a
        ``lease``, the transaction first checks that its holder still holds it live (and
        releases it); otherwise it raises ``LeaseLost`` and writes nothing (fencing: a
        holder that lost its lease never overwrites the next holder's round).
        """
    async def events_in_range(
        self, calendar_ids: Sequence[str], start: datetime, end: datetime,
    ) -> list[MirroredEvent]:
        """Mirrored events overlapping [start, end) (UTC), plus every series master and
        every exception/cancellation of those calendars (the core expands series)."""
    async def window_items(
        self, calendar_ids: Sequence[str], start: datetime, end: datetime,
    ) -> list[MirroredEvent]:
        """The same items as :meth:`events_in_range`, in no particular order (for callers
        that sort anyway: the read path expands and sorts in the core)."""
    async def get_event(self, event_id: str) -> MirroredEvent | None:
        """A mirrored event by public id."""
    async def put_event(self, calendar_id: str, event: MirroredEvent) -> None:
        """Write-through of one event after a provider write."""
    async def delete_event(self, calendar_id: str, provider_id: str) -> None: ...

    # --- contacts mirror ---------------------------------------------------------------
    async def apply_contact_sync(
        self, integration_id: str, changed: Sequence[Contact], removed: Sequence[str],
        cursor: str | None, synced_at: datetime, full: bool, *,
        lease: LeaseFence | None = None,
    ) -> None:
        """Like ``apply_event_sync``, for an integration's contacts."""
    async def list_contacts(self, integration_ids: Sequence[str]) -> list[tuple[str, str, Contact]]:
        """(public id, integration id, contact) for every mirrored contact."""
    async def get_contact(self, contact_id: str) -> tuple[str, str, Contact] | None: ...
    async def put_contact(self, integration_id: str, contact: Contact) -> str:
        """Write-through of a created contact; return its public id."""

    # --- sync across instances (leases are coordination rows; they announce nothing) ---
    async def acquire_lease(self, key: str, holder: str, seconds: float) -> bool:
        """Take ``key`` for ``seconds`` unless another holder's lease is still live."""
    async def begin_round(self, claim: RoundClaim,
                          wanted: Callable[[CalendarRecord], bool]) -> RoundStart:
        """One transaction: take the calendar's lease and a free mailbox slot, and read the
        calendar as committed; nothing is taken unless the lease was free, the calendar's
        integration is connected, ``wanted(calendar)`` and the mailbox is not paused."""
    async def take_slot(self, slots: Sequence[str], pause: str | None, holder: str,
                        seconds: float) -> SlotTaken:
        """Take the first free of ``slots`` (one statement) unless ``pause`` lives."""
    async def pause_key(self, key: str, seconds: float) -> None:
        """Keep ``key`` live, held by nobody, at least ``seconds`` more (a shared pause)."""
    async def renew_lease(self, key: str, holder: str, seconds: float) -> bool:
        """Extend a lease ``holder`` still has; False when it lapsed and was taken."""
    async def release_lease(self, key: str, holder: str) -> None: ...
    async def lease_holder(self, key: str) -> str | None:
        """Who holds ``key`` now (None when free or expired)."""
    async def sync_schedule(self) -> SyncSchedule:
        """Synced calendars and contacts of connected integrations granted access,
        connected integrations whose calendars were never listed, and every connected
        integration."""
    # --- the web portal (every browser-held secret stored as its SHA-256) ---------------
    async def create_portal_session(self, user_id: str) -> str:
        """A new browser session; returns its id (shown once, stored hashed)."""
    async def portal_session_user(self, session_id: str, idle: timedelta) -> User | None:
        """The user of a session seen within ``idle`` (counts as activity), else ``None``."""
    async def end_portal_session(self, session_id: str) -> None: ...
    async def end_user_portal_sessions(self, user_id: str) -> int: ...
    async def create_login_link(self, user_id: str, valid_for: timedelta) -> str:
        """A single-use sign-in secret for the user (stored hashed)."""
    async def login_link_user(self, secret: str) -> User | None:
        """Whose live link this is, without using it."""
    async def use_login_link(self, secret: str) -> User | None:
        """Use the link once; ``None`` when unknown, used or expired."""
    async def begin_sign_in_flow(self, state: str, provider: str, binding: str,
                                 valid_for: timedelta) -> None: ...
    async def take_sign_in_flow(self, state: str, binding: str) -> str | None:
        """The provider of the flow (spent now), if the same browser is back in time."""
    async def is_sign_in_state(self, state: str) -> bool: ...
    async def user_for_identity(self, issuer: str, subject: str) -> User | None: ...
    async def identities_of(self, user_id: str) -> list[tuple[str, str]]: ...
    async def bind_identity(self, issuer: str, subject: str, user_id: str) -> None:
        """``Conflict`` when (issuer, subject) is bound to another user."""
    # --- change notifications (DESIGN §11; see proxy.store.sql_notifications) ------------
    async def create_webhook(self, subscriber_id: str, owner_id: str, url: str,
                             secret: str) -> Webhook: ...
    async def list_webhooks(self, subscriber_id: str) -> list[Webhook]: ...
    async def webhooks_watching(self, owner_id: str) -> list[Webhook]: ...
    async def delete_webhook(self, subscriber_id: str, webhook_id: str) -> bool: ...
    async def webhook_secret(self, webhook_id: str) -> str | None: ...
    async def due_webhooks(self, now: datetime) -> list[Webhook]: ...
    async def newest_change(self, owner_id: str) -> int: ...
    async def claim_webhook(self, webhook_id: str, until: datetime) -> bool: ...
    async def webhook_delivered(self, webhook_id: str, seq: int) -> None: ...
    async def webhook_failed(self, webhook_id: str, attempts: int, failing_since: datetime,
                             next_attempt: datetime | None) -> None: ...
    async def watch_owner(self, owner_id: str, until: datetime) -> None: ...
    async def is_watched(self, owner_id: str) -> bool: ...
    async def watched_calendar(self, calendar_id: str) -> tuple[CalendarRecord, str, str] | None:
        """The calendar, its owner's id and email, if the owner's changes are watched."""
    async def get_snapshot(self, owner_id: str, viewer: str,
                           calendar_id: str) -> tuple[dict[str, str], int] | None: ...
    async def record_change(self, owner_id: str, viewer: str, calendar_id: str,
                            version: int | None, digests: Mapping[str, str],
                            body: Mapping[str, Any] | None) -> int | None: ...
    async def changes_after(self, owner_id: str, viewer: str, after: int,
                            limit: int = 100) -> list[tuple[int, dict[str, Any]]]: ...
    async def prune_changes(self, before: datetime) -> int:
        """Entries before ``before`` no active webhook awaits, and ended watches."""

    # --- change notifications in: provider channels (see proxy.store.sql_push) -----------
    async def put_push_channel(self, record: PushChannelRecord) -> PushChannelRecord:
        """Insert the channel, or replace the row with its ``id`` (a renewal)."""
    async def push_channel_by_upstream(self, upstream_id: str) -> PushChannelRecord | None:
        """The channel the provider calls ``upstream_id`` (a notice's subscription or
        channel id), else ``None``."""
    async def list_push_channels(self, integration_id: str | None = None
                                 ) -> list[PushChannelRecord]:
        """Every channel, or those of one integration, oldest first."""
    async def delete_push_channel(self, channel_id: str) -> bool:
        """Forget the channel (by calproxy's id); ``False`` if it was not there."""
