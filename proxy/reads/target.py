"""Resolving a ``{user}`` reference and the caller's relation to that user."""

from __future__ import annotations

from dataclasses import dataclass

from proxy.cache.principals import Principals
from proxy.core.access import Grant, Party, Relation, relation, require_visible
from proxy.core.policy import Policy
from proxy.errors import NotFound
from proxy.store.records import User


@dataclass(frozen=True, slots=True)
class Target:
    caller: User
    owner: User
    relation: Relation
    grant: Grant | None
    policy: Policy


async def find_user(principals: Principals, caller: User, ref: str) -> User | None:
    """``me``, a user id, or an email (any case)."""
    if ref == "me":
        return caller
    if "@" in ref:
        return await principals.get_user_by_email(ref)
    return await principals.get_user(ref)


async def resolve_target(principals: Principals, caller: User, ref: str) -> Target:
    """The user ``ref`` as seen by ``caller``; 404 for unknown users and outsiders."""
    owner = await find_user(principals, caller, ref)
    if owner is None:
        raise NotFound("user: no such user", "user_not_found")
    delegation = await principals.get_delegation(owner.id, caller.id)
    grant = None if delegation is None else Grant(delegation.can_schedule,
                                                  delegation.can_view_private)
    rel = relation(Party(caller.id, caller.account_id), Party(owner.id, owner.account_id), grant)
    require_visible(rel)
    return Target(caller, owner, rel, grant, await principals.policy(owner.account_id))
