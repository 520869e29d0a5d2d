"""The audit trail's HTTP side: the flusher's lifetime, the refusal recorder, and the two
endpoints that read the trail (``/v1/me/audit`` for an owner, ``/v1/account/audit`` for
admins)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from proxy.actions.policy import require_admin
from proxy.actions.target import OutsiderNotFound, Target
from proxy.core.access import Relation
from proxy.errors import BadRequest, Forbidden
from proxy.http.auth import current_user
from proxy.http.context import TARGET
from proxy.http.keys import AUDIT, SETTINGS, STORE
from proxy.http.replies import json_reply
from proxy.operations.audit import REFUSED, AuditTrail, audit
from proxy.store.records import AuditRecord, User, Webhook

#: records one answer lists at most (oldest first: page on with ``since``)
LIMIT = 1000


async def audit_service(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: run the flusher while the app runs; flush once more at the end."""
    trail = app[AUDIT]
    task = asyncio.create_task(trail.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(Exception):
        await trail.flush()


def record_refusal(trail: AuditTrail | None, exc: Exception, target: Target | None,
                   write: bool, event_id: str | None) -> None:
    """Record ``exc`` when it refused a read or write on someone else's calendar
    (``event.read_refused`` or ``event.write_refused``): a 403 on a resolved ``target``
    that is not the caller's own, or an outsider told the owner does not exist. The API's
    middleware and the portal's calendar pages both record through here."""
    if isinstance(exc, OutsiderNotFound):
        caller, owner = exc.caller, exc.owner
    elif isinstance(exc, Forbidden) and target is not None \
            and target.relation is not Relation.SELF:
        caller, owner = target.caller, target.owner
    else:
        return
    action = "event.write_refused" if write else "event.read_refused"
    audit(trail, action, caller, owner, event_id, REFUSED)


@web.middleware
async def audit_refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    """A refusal on someone else's calendar under ``/v1/users/{user}/`` (contacts aside)
    becomes ``event.read_refused`` (GET) or ``event.write_refused``: a 403 names the owner
    through the target the request resolved (:data:`TARGET`, set by the one place that
    resolves it), an outsider's 404 through its exception. The refusals themselves are
    raised by :mod:`proxy.core.access` and :func:`proxy.actions.calendar.resolve_target`."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except (Forbidden, OutsiderNotFound) as exc:
        if "user" in request.match_info and "/contacts" not in request.path:
            record_refusal(request.app.get(AUDIT), exc, request.get(TARGET),
                           request.method not in ("GET", "HEAD"),
                           request.match_info.get("id"))
        raise


def audit_sign_in(app: web.Application, user: User) -> None:
    """The portal's one call: ``user`` signed in (``portal.sign_in`` on their trail)."""
    audit(app.get(AUDIT), "portal.sign_in", user, user, None)


def audit_webhook(request: web.Request, action: str, webhook: Webhook,
                  owner: User | None) -> None:
    """A webhook on ``owner``'s calendar was created or removed by the caller."""
    audit(request.app.get(AUDIT), action, current_user(request), owner, webhook.id)


async def removal_recorder(request: web.Request, webhook_id: str) -> Callable[[], None]:
    """Looks the caller's webhook up before it goes; the returned call records its
    removal (made only once the removal succeeded)."""
    store = request.app[STORE]
    hook = next((h for h in await store.list_webhooks(current_user(request).id)
                 if h.id == webhook_id), None)
    owner = await store.get_user(hook.owner_id) if hook is not None else None

    def record() -> None:
        if hook is not None:
            audit_webhook(request, "webhook.removed", hook, owner)

    return record


def _since(request: web.Request) -> datetime:
    """``since`` (RFC 3339), by default the start of the retention period."""
    raw = request.query.get("since")
    if raw is None:
        return datetime.now(UTC) - timedelta(days=request.app[SETTINGS].audit_days)
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("since: expected an RFC 3339 date-time", "invalid_field") from None
    if value.tzinfo is None:
        raise BadRequest("since: give a UTC offset (e.g. Z)", "invalid_field")
    return value.astimezone(UTC)


async def read_trail(app: web.Application, since: datetime,
                     **scope: str) -> list[AuditRecord]:
    """Records at or after ``since`` of one owner or account (the API and the portal's
    ``/portal/audit`` both read here): this instance's queue is written first."""
    trail = app.get(AUDIT)
    if trail is not None:
        with contextlib.suppress(Exception):  # the store's error surfaces in the read
            await trail.flush()
    return await app[STORE].list_audit(since, limit=LIMIT, **scope)


async def _answer(request: web.Request, **scope: str) -> web.Response:
    records = await read_trail(request.app, _since(request), **scope)
    return json_reply({"records": [r.json() for r in records]})


async def my_audit(request: web.Request) -> web.Response:
    """What others did on the caller's calendar (records whose owner is the caller)."""
    return await _answer(request, owner_id=current_user(request).id)


async def account_audit(request: web.Request) -> web.Response:
    """Every record of the caller's account; admins only."""
    user = current_user(request)
    require_admin(user)
    return await _answer(request, account_id=user.account_id)
