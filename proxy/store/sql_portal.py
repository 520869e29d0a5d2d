"""The web portal's rows: browser sessions, one-time sign-in links, OpenID Connect sign-ins
under way, and the (issuer, subject) identities users are bound to.

Every secret a browser holds (the session id in its cookie, a login link's secret, an
OIDC ``state``) is stored only as its SHA-256, like API tokens: a leaked table signs no one
in. Lookups hash the presented value, find the row by its digest, and compare digests in
constant time. Expiry is decided here, against the clock, so that no caller forgets it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from proxy.errors import Conflict
from proxy.store.changes import Topic
from proxy.store.records import User
from proxy.store.schema import (
    identities,
    portal_login_links,
    portal_sessions,
    portal_sign_in_flows,
    users,
)
from proxy.store.sql_base import StoreBase, sha256_hex, utcnow
from proxy.store.sql_people import _require_user, _user

#: a session's last_seen is written at most this often (a page view is not a write)
TOUCH_EVERY = timedelta(minutes=1)


class PortalOps(StoreBase):
    # --- sessions --------------------------------------------------------------------
    async def create_portal_session(self, user_id: str) -> str:
        """A new session for the user; returns its id (256 random bits), stored hashed."""
        session_id = secrets.token_urlsafe(32)
        now = utcnow()
        async with self._write() as conn:
            await _require_user(conn, user_id)
            await conn.execute(insert(portal_sessions).values(
                id_hash=sha256_hex(session_id), user_id=user_id, created=now, last_seen=now))
        self._announce(Topic.PORTAL, user_id)
        return session_id

    async def portal_session_user(self, session_id: str, idle: timedelta) -> User | None:
        """The user of a live session (seen within ``idle``), which counts as activity;
        an idle-expired session is deleted and ``None`` returned."""
        digest = sha256_hex(session_id)
        now = utcnow()
        async with self._read() as conn:
            row = (await conn.execute(
                select(portal_sessions.c.id_hash, portal_sessions.c.last_seen, users)
                .join(users, users.c.id == portal_sessions.c.user_id)
                .where(portal_sessions.c.id_hash == digest))).first()
        if row is None or not hmac.compare_digest(row.id_hash, digest):
            return None
        if now - row.last_seen > idle:
            await self.end_portal_session(session_id)
            return None
        if now - row.last_seen > TOUCH_EVERY:
            async with self._write() as conn:
                await conn.execute(update(portal_sessions)
                                   .where(portal_sessions.c.id_hash == digest)
                                   .values(last_seen=now))
        return _user(row)

    async def end_portal_session(self, session_id: str) -> None:
        """Sign-out: the session stops working at once (idempotent)."""
        digest = sha256_hex(session_id)
        async with self._write() as conn:
            user_id = await conn.scalar(
                delete(portal_sessions).where(portal_sessions.c.id_hash == digest)
                .returning(portal_sessions.c.user_id))
        if user_id is not None:
            self._announce(Topic.PORTAL, str(user_id))

    async def end_user_portal_sessions(self, user_id: str) -> int:
        """End every browser session of the user (an admin's "sign out everywhere")."""
        async with self._write() as conn:
            result = await conn.execute(
                delete(portal_sessions).where(portal_sessions.c.user_id == user_id))
        self._announce(Topic.PORTAL, user_id)
        return int(result.rowcount)

    # --- one-time sign-in links ------------------------------------------------------------
    async def create_login_link(self, user_id: str, valid_for: timedelta) -> str:
        """A single-use sign-in secret (256 random bits) for the user, stored hashed."""
        secret = secrets.token_urlsafe(32)
        async with self._write() as conn:
            await _require_user(conn, user_id)
            await conn.execute(delete(portal_login_links)  # spent and dead links go
                               .where(portal_login_links.c.used.is_(True)
                                      | (portal_login_links.c.expires <= utcnow())))
            await conn.execute(insert(portal_login_links).values(
                secret_hash=sha256_hex(secret), user_id=user_id,
                expires=utcnow() + valid_for, used=False))
        self._announce(Topic.PORTAL, user_id)
        return secret

    async def login_link_user(self, secret: str) -> User | None:
        """Whose unused, unexpired link this is, without using it (the GET)."""
        digest = sha256_hex(secret)
        async with self._read() as conn:
            row = (await conn.execute(
                select(portal_login_links.c.secret_hash, portal_login_links.c.expires,
                       portal_login_links.c.used, users)
                .join(users, users.c.id == portal_login_links.c.user_id)
                .where(portal_login_links.c.secret_hash == digest))).first()
        if row is None or not hmac.compare_digest(row.secret_hash, digest):
            return None
        if row.used or row.expires <= utcnow():
            return None
        return _user(row)

    async def use_login_link(self, secret: str) -> User | None:
        """Use the link (once: a second use, even a concurrent one, gets ``None``)."""
        digest = sha256_hex(secret)
        async with self._write() as conn:
            user_id = await conn.scalar(
                update(portal_login_links)
                .where((portal_login_links.c.secret_hash == digest)
                       & portal_login_links.c.used.is_(False)
                       & (portal_login_links.c.expires > utcnow()))
                .values(used=True).returning(portal_login_links.c.user_id))
            row = None if user_id is None else (
                await conn.execute(select(users).where(users.c.id == user_id))).first()
        if row is None:
            return None
        self._announce(Topic.PORTAL, row.id)
        return _user(row)

    # --- OpenID Connect sign-ins under way ---------------------------------------------------
    async def begin_sign_in_flow(self, state: str, provider: str, binding: str,
                                 valid_for: timedelta) -> None:
        """Remember that ``state`` was sent to ``provider`` by the browser holding
        ``binding``; expired flows of anyone are swept at the same time."""
        now = utcnow()
        async with self._write() as conn:
            await conn.execute(delete(portal_sign_in_flows)
                               .where(portal_sign_in_flows.c.expires <= now))
            await conn.execute(insert(portal_sign_in_flows).values(
                state_hash=sha256_hex(state), provider=provider,
                binding_hash=sha256_hex(binding), expires=now + valid_for))

    async def take_sign_in_flow(self, state: str, binding: str) -> str | None:
        """Finish the flow of ``state`` (once) when the same browser comes back in time:
        its provider, else ``None``. A flow presented by another browser is spent too."""
        async with self._write() as conn:
            row = (await conn.execute(
                delete(portal_sign_in_flows)
                .where(portal_sign_in_flows.c.state_hash == sha256_hex(state))
                .returning(portal_sign_in_flows.c.provider, portal_sign_in_flows.c.binding_hash,
                           portal_sign_in_flows.c.expires))).first()
        if row is None or row.expires <= utcnow():
            return None
        if not hmac.compare_digest(row.binding_hash, sha256_hex(binding)):
            return None
        return str(row.provider)

    async def is_sign_in_state(self, state: str) -> bool:
        """Whether ``state`` names a portal sign-in (``/oauth/callback`` routes by it)."""
        async with self._read() as conn:
            found = await conn.scalar(select(portal_sign_in_flows.c.provider).where(
                portal_sign_in_flows.c.state_hash == sha256_hex(state)))
        return found is not None

    # --- identities --------------------------------------------------------------------
    async def user_for_identity(self, issuer: str, subject: str) -> User | None:
        async with self._read() as conn:
            row = (await conn.execute(
                select(users).join(identities, identities.c.user_id == users.c.id)
                .where((identities.c.issuer == issuer)
                       & (identities.c.subject == subject)))).first()
        return _user(row) if row else None

    async def identities_of(self, user_id: str) -> list[tuple[str, str]]:
        """The (issuer, subject) pairs bound to the user."""
        async with self._read() as conn:
            rows = await conn.execute(select(identities.c.issuer, identities.c.subject)
                                      .where(identities.c.user_id == user_id))
            return [(r.issuer, r.subject) for r in rows]

    async def bind_identity(self, issuer: str, subject: str, user_id: str) -> None:
        """Bind (issuer, subject) to the user; ``Conflict`` when it is someone else's."""
        try:
            async with self._write() as conn:
                await _require_user(conn, user_id)
                await conn.execute(insert(identities).values(
                    issuer=issuer, subject=subject, user_id=user_id, created=utcnow()))
        except IntegrityError:
            raise Conflict("this identity is bound to another user",
                           code="identity_taken") from None
        self._announce(Topic.PORTAL, user_id)
