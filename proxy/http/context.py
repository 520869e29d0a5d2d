"""Resolving ``{user}`` and the caller's relation to that user, once per request."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from proxy.core.access import Grant, Party, Relation, relation, require_visible
from proxy.core.policy import Policy, load_policy
from proxy.errors import NotFound
from proxy.http.auth import current_user
from proxy.http.keys import STORE
from proxy.store.records import User


@dataclass(frozen=True, slots=True)
class Target:
    caller: User
    owner: User
    relation: Relation
    grant: Grant | None
    policy: Policy


async def find_user(request: web.Request, ref: str) -> User | None:
    store = request.app[STORE]
    caller = current_user(request)
    if ref == "me":
        return caller
    if "@" in ref:
        return await store.get_user_by_email(ref.strip().lower())
    return await store.get_user(ref)


async def resolve_target(request: web.Request) -> Target:
    """The ``{user}`` of the path as seen by the caller; 404 for unknown or outsiders."""
    store = request.app[STORE]
    caller = current_user(request)
    owner = await find_user(request, request.match_info["user"])
    if owner is None:
        raise NotFound("user: no such user", "user_not_found")
    delegation = await store.get_delegation(owner.id, caller.id)
    grant = None if delegation is None else Grant(delegation.can_schedule,
                                                  delegation.can_view_private)
    rel = relation(Party(caller.id, caller.account_id), Party(owner.id, owner.account_id), grant)
    require_visible(rel)
    account = await store.get_account(owner.account_id)
    policy = load_policy(account.settings if account else {})
    return Target(caller, owner, rel, grant, policy)


async def caller_policy(request: web.Request) -> Policy:
    account = await request.app[STORE].get_account(current_user(request).account_id)
    return load_policy(account.settings if account else {})
