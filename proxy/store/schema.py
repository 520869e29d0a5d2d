"""The store's tables (SQLAlchemy Core), the current shape of the schema.

Secrets never sit in a plain column: API tokens and feed secrets are stored as SHA-256
hex digests, provider credentials as one Fernet blob per integration in
``credentials``. Everything that belongs to an integration hangs off it by a foreign key
with ``ON DELETE CASCADE`` (calendars, and through them events; contacts; credentials), so
deleting the integration row forgets all of it in one statement.

Every timestamp is a :class:`UtcDateTime`: written as UTC, read back as aware UTC on both
backends (SQLite keeps no zone, PostgreSQL uses ``timestamptz``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store only accepts aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id(name: str = "id", **kw: Any) -> Column[str]:
    return Column(name, String(64), **kw)


def _owner(name: str, target: str, **kw: Any) -> Column[str]:
    return Column(name, String(64), ForeignKey(target, ondelete="CASCADE"), nullable=False, **kw)


metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    _id(primary_key=True),
    Column("name", String(200), nullable=False),
    Column("settings", Text, nullable=False),  # JSON
    Column("created", UtcDateTime, nullable=False),
)

users = Table(
    "users", metadata,
    _id(primary_key=True),
    _owner("account_id", "accounts.id", index=True),
    Column("email", String(320), nullable=False, unique=True),  # always lower-case
    Column("role", String(20), nullable=False),
    Column("sign_in_count", Integer, nullable=False, default=0),
    Column("created", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the token
    _owner("user_id", "users.id", index=True),
    Column("created", UtcDateTime, nullable=False),
)

integrations = Table(
    "integrations", metadata,
    _id(primary_key=True),
    _owner("user_id", "users.id", index=True),
    Column("service", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(100)),
    Column("requested_calendar", String(10), nullable=False),
    Column("requested_contacts", String(10), nullable=False),
    Column("granted_calendar", String(10), nullable=False),
    Column("granted_contacts", String(10), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON, non-secret only
    Column("oauth_state", String(200), unique=True),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    Column("contacts_cursor", Text),
    Column("contacts_synced_at", UtcDateTime),
)

credentials = Table(
    "credentials", metadata,
    Column("integration_id", String(64), ForeignKey("integrations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("blob", Text, nullable=False),  # Fernet token of the JSON credentials
)

delegations = Table(
    "delegations", metadata,
    _owner("owner_id", "users.id", primary_key=True),
    _owner("delegate_id", "users.id", primary_key=True, index=True),
    Column("can_schedule", Boolean, nullable=False),
    Column("can_view_private", Boolean, nullable=False),
)

feeds = Table(
    "feeds", metadata,
    _id(primary_key=True),
    _owner("owner_id", "users.id", index=True),
    Column("secret_hash", String(64), nullable=False, unique=True),  # sha256 hex
    Column("detail", String(20), nullable=False),
    Column("include_private", Boolean, nullable=False),
    Column("past_days", Integer, nullable=False),
    Column("future_days", Integer, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

calendars = Table(
    "calendars", metadata,
    _id(primary_key=True),
    _owner("integration_id", "integrations.id"),
    Column("provider_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("is_primary", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
    Column("synced", Boolean, nullable=False),
    Column("cursor", Text),
    Column("synced_at", UtcDateTime),
    Column("time_zone", String(100)),
    # bumped whenever the calendar's mirrored events change: cheap "did anything change?"
    Column("version", Integer, nullable=False, server_default="0"),
    # random per calendar row: (id, incarnation, version) never repeats (read caches)
    Column("incarnation", String(64), nullable=False, server_default=""),
    UniqueConstraint("integration_id", "provider_id", name="uq_calendars_provider"),
)

events = Table(
    "events", metadata,
    _id(primary_key=True),
    _owner("calendar_id", "calendars.id"),
    Column("integration_id", String(64), nullable=False),
    Column("provider_id", Text, nullable=False),
    # single | master | occurrence | exception | cancelled (see sql_events.event_kind)
    Column("kind", String(12), nullable=False),
    Column("start_utc", UtcDateTime, nullable=False),
    Column("end_utc", UtcDateTime, nullable=False),
    Column("series_public_id", String(64)),
    Column("doc", Text, nullable=False),  # the Event as JSON (proxy.store.codec)
    UniqueConstraint("calendar_id", "provider_id", name="uq_events_provider"),
    Index("ix_events_range", "calendar_id", "start_utc", "end_utc"),
    Index("ix_events_kind", "calendar_id", "kind"),
)

contacts = Table(
    "contacts", metadata,
    _id(primary_key=True),
    _owner("integration_id", "integrations.id"),
    Column("provider_id", Text, nullable=False),
    Column("doc", Text, nullable=False),  # the Contact as JSON (proxy.store.codec)
    UniqueConstraint("integration_id", "provider_id", name="uq_contacts_provider"),
)

portal_sessions = Table(
    "portal_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 hex of the cookie's id
    _owner("user_id", "users.id", index=True),
    Column("created", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
)

portal_login_links = Table(
    "portal_login_links", metadata,
    Column("secret_hash", String(64), primary_key=True),  # sha256 hex of the secret
    _owner("user_id", "users.id", index=True),
    Column("expires", UtcDateTime, nullable=False),
    Column("used", Boolean, nullable=False),
)

portal_sign_in_flows = Table(
    "portal_sign_in_flows", metadata,
    Column("state_hash", String(64), primary_key=True),  # sha256 hex of ``state``
    Column("provider", String(20), nullable=False),
    Column("binding_hash", String(64), nullable=False),  # sha256 hex of the browser's id
    Column("expires", UtcDateTime, nullable=False),
)

identities = Table(
    "identities", metadata,
    Column("issuer", String(300), primary_key=True),
    Column("subject", String(300), primary_key=True),
    _owner("user_id", "users.id", index=True),
    Column("created", UtcDateTime, nullable=False),
)


# --- change notifications (migration 9) --------------------------------------------------
webhooks = Table(
    "webhooks", metadata,
    _id(primary_key=True),
    _owner("subscriber_id", "users.id", index=True),  # who created it (and is told)
    _owner("owner_id", "users.id", index=True),  # whose calendar it watches
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),  # Fernet token of the whsec_ signing secret
    Column("status", String(20), nullable=False),  # active | disabled
    Column("created", UtcDateTime, nullable=False),
    Column("delivered_seq", Integer, nullable=False),  # last change-log entry delivered
    Column("attempts", Integer, nullable=False),  # failed attempts of the pending entry
    Column("failing_since", UtcDateTime),
    Column("next_attempt", UtcDateTime),
    Column("claimed_until", UtcDateTime),  # a delivering instance's lease
)

change_snapshots = Table(
    "change_snapshots", metadata,
    _owner("owner_id", "users.id", primary_key=True),
    Column("viewer", String(20), primary_key=True),
    Column("calendar_id", String(64), primary_key=True),
    Column("digests", Text, nullable=False),  # JSON {event id: digest}
    Column("version", Integer, nullable=False),
)

change_log = Table(
    "change_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    _owner("owner_id", "users.id"),
    Column("viewer", String(20), nullable=False),
    Column("body", Text, nullable=False),  # the thin notification, JSON
    Column("at", UtcDateTime, nullable=False),
    Index("ix_change_log_owner", "owner_id", "viewer", "seq"),
    Index("ix_change_log_at", "at"),  # migration 13: pruning by age
    sqlite_autoincrement=True,  # migration 13: a pruned number is never handed out again
)

change_watch = Table(
    "change_watch", metadata,
    _owner("owner_id", "users.id", primary_key=True),
    Column("until", UtcDateTime, nullable=False),  # streams keep it alive; webhooks too
)


# --- change notifications in (migration 10) ----------------------------------------------
#: one provider channel (Graph subscription, Google watch channel) on one calendar; ``id``
#: is calproxy's own random id (Google's channel id), ``upstream_id`` the provider's
push_channels = Table(
    "push_channels", metadata,
    _id(primary_key=True),
    _owner("calendar_id", "calendars.id", index=True),
    Column("integration_id", String(64), nullable=False, index=True),
    Column("service", String(30), nullable=False),
    Column("upstream_id", String(300), nullable=False, unique=True),
    Column("resource_id", Text),  # Google's resourceId (channels.stop needs it)
    Column("secret_hash", String(64), nullable=False),  # sha256 hex of the secret
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


#: who runs what across instances: ``calendar:<id>`` rounds, ``slot:<mailbox>:<n>``
#: request slots; a row whose ``expires_at`` passed is free (its holder died or let go)
sync_leases = Table(
    "sync_leases", metadata,
    Column("key", String(300), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

#: the audit trail (DESIGN §12): no foreign keys, records outlive what they name
audit = Table(
    "audit", metadata,
    Column("id", String(64), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor", String(320), nullable=False),  # email
    Column("action", String(40), nullable=False),
    Column("owner_id", String(64)),
    Column("owner", String(320)),  # email; none for account-level actions
    Column("target", String(200)),  # an id or a setting name
    Column("result", String(10), nullable=False),  # allowed | refused
    Index("ix_audit_owner_at", "owner_id", "at"),
    Index("ix_audit_account_at", "account_id", "at"),
    Index("ix_audit_at", "at"),
)


#: every table but ``schema_version``, children after parents (tests truncate these);
#: keep this last, after every table
DATA_TABLES = tuple(t for t in metadata.sorted_tables if t is not schema_version)
