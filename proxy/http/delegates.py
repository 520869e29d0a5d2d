"""Delegations: an owner lets a colleague schedule on, or see private events of, their
calendar."""

from __future__ import annotations

from aiohttp import web

from proxy.errors import BadRequest, NotFound
from proxy.http.auth import current_user
from proxy.http.input import get_bool, json_body, only_fields
from proxy.http.keys import STORE
from proxy.http.views import delegation_json
from proxy.store.records import Delegation, User


async def _colleague(request: web.Request) -> User:
    caller = current_user(request)
    email = request.match_info["email"].strip().lower()
    other = await request.app[STORE].get_user_by_email(email)
    if other is None or other.account_id != caller.account_id:
        raise NotFound("email: no such user in your account", "user_not_found")
    if other.id == caller.id:
        raise BadRequest("email: you cannot delegate to yourself", "invalid_field")
    return other


async def _listed(request: web.Request, delegations: list[Delegation], key: str,
                  other_of: str) -> web.Response:
    """Delegations as JSON, each naming the user on the other side."""
    store = request.app[STORE]
    out = []
    for delegation in delegations:
        other = await store.get_user(getattr(delegation, other_of))
        if other is not None:
            out.append(delegation_json(delegation, other))
    return web.json_response({key: out})


async def list_delegates(request: web.Request) -> web.Response:
    delegations = await request.app[STORE].list_delegates(current_user(request).id)
    return await _listed(request, delegations, "delegates", "delegate_id")


async def list_delegators(request: web.Request) -> web.Response:
    delegations = await request.app[STORE].list_delegators(current_user(request).id)
    return await _listed(request, delegations, "delegators", "owner_id")


async def put_delegate(request: web.Request) -> web.Response:
    body = await json_body(request)
    only_fields(body, {"can_schedule", "can_view_private"})
    other = await _colleague(request)
    delegation = Delegation(current_user(request).id, other.id,
                            bool(get_bool(body, "can_schedule", False)),
                            bool(get_bool(body, "can_view_private", False)))
    saved = await request.app[STORE].put_delegation(delegation)
    return web.json_response(delegation_json(saved, other))


async def delete_delegate(request: web.Request) -> web.Response:
    other = await _colleague(request)
    if not await request.app[STORE].delete_delegation(current_user(request).id, other.id):
        raise NotFound("email: not a delegate of yours", "delegation_not_found")
    return web.Response(status=204)
