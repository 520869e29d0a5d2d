"""Scheduling privilege: an owner lets a colleague schedule on, or see private events of,
their calendar (DESIGN §1, §3)."""

from __future__ import annotations

from proxy.actions.deps import Deps
from proxy.errors import BadRequest, NotFound
from proxy.store.records import Delegation, User

Listed = list[tuple[Delegation, User]]


async def colleague(deps: Deps, owner: User, email: str) -> User:
    """The user of ``owner``'s account with ``email``, who is not ``owner``."""
    other = await deps.store.get_user_by_email(email.strip().lower())
    if other is None or other.account_id != owner.account_id:
        raise NotFound("email: no such user in your account", "user_not_found")
    if other.id == owner.id:
        raise BadRequest("email: you cannot delegate to yourself", "invalid_field")
    return other


async def assign(deps: Deps, owner: User, email: str, can_schedule: bool,
                 can_view_private: bool) -> tuple[Delegation, User]:
    """Give (or change) ``email``'s privilege on ``owner``'s calendar."""
    other = await colleague(deps, owner, email)
    saved = await deps.store.put_delegation(
        Delegation(owner.id, other.id, can_schedule, can_view_private))
    return saved, other


async def remove(deps: Deps, owner: User, email: str) -> None:
    other = await colleague(deps, owner, email)
    if not await deps.store.delete_delegation(owner.id, other.id):
        raise NotFound("email: not a delegate of yours", "delegation_not_found")


async def _named(deps: Deps, delegations: list[Delegation], other_of: str) -> Listed:
    out = []
    for delegation in delegations:
        other = await deps.store.get_user(getattr(delegation, other_of))
        if other is not None:
            out.append((delegation, other))
    return out


async def delegates(deps: Deps, owner: User) -> Listed:
    """Who may act on ``owner``'s calendar, each with the delegate's user."""
    return await _named(deps, await deps.store.list_delegates(owner.id), "delegate_id")


async def delegators(deps: Deps, delegate: User) -> Listed:
    """Whose calendars ``delegate`` may act on, each with the owner's user."""
    return await _named(deps, await deps.store.list_delegators(delegate.id), "owner_id")
