"""Migration 3: the web portal's tables (DESIGN §9), frozen as first released.

``portal_sessions`` holds signed-in browser sessions (only the SHA-256 of the session id
in the cookie), ``portal_login_links`` the one-time sign-in links of ``calproxy
login-link`` (hashed), ``portal_sign_in_flows`` the OpenID Connect sign-ins under way (the
hashed ``state`` and the hash of the browser's cookie the flow is bound to; no secret is
stored) and ``identities`` the (issuer, subject) pairs users are bound to.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, ForeignKey, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.schema import UtcDateTime

metadata = MetaData()
# the tables they point at, as they stand at this version (only the keys matter here)
Table("users", metadata, Column("id", String(64), primary_key=True))


def _user(nullable: bool = False) -> Column[str]:
    return Column("user_id", String(64), ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=nullable, index=True)


portal_sessions = Table(
    "portal_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 hex of the cookie's id
    _user(),
    Column("created", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
)

portal_login_links = Table(
    "portal_login_links", metadata,
    Column("secret_hash", String(64), primary_key=True),  # sha256 hex of the secret
    _user(),
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
    _user(),
    Column("created", UtcDateTime, nullable=False),
)

TABLES = (portal_sessions, portal_login_links, portal_sign_in_flows, identities)


def _create(conn: Connection) -> None:
    for table in TABLES:
        table.create(conn)


async def apply(conn: AsyncConnection) -> None:
    await conn.run_sync(_create)
