"""A calendar owner as one caller sees them, and the checks every read makes first.

:class:`Target` is what the JSON API, the portal and the notification routes resolve a
``{user}`` to; :func:`check_events_read`, :func:`visible_busy_allowed` and
:func:`may_write` decide, from it alone, whether events or free/busy may be read and
whether the caller may write an integration's calendars. They live apart from the
actions (:mod:`proxy.actions.calendar`) and from the read path that uses them
(:mod:`proxy.actions.reads`), so that neither has to import the other: the services
(:mod:`proxy.actions.deps`) name the reader, the actions name the services, and both
name this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.cache import Principals
from proxy.core.access import (
    Grant,
    Party,
    Relation,
    check_calendar_read,
    check_calendar_write,
    check_scheduler,
    events_audience,
    freebusy_audience,
    relation,
    require_visible,
)
from proxy.core.policy import Policy, load_policy
from proxy.errors import CalproxyError, NotFound
from proxy.redaction import Audience
from proxy.store.interface import Store
from proxy.store.records import Integration, User


class OutsiderNotFound(NotFound):
    """Someone outside the owner's account asked for the owner: answered exactly as an
    unknown user is (same status, code and message), but it names who asked for whom,
    so that the refusal is recorded on the owner's audit trail (DESIGN §12)."""

    def __init__(self, caller: User, owner: User) -> None:
        super().__init__("user: no such user", "user_not_found")
        self.caller, self.owner = caller, owner


@dataclass(frozen=True, slots=True)
class Target:
    """A calendar owner as one caller sees them."""

    caller: User
    owner: User
    relation: Relation
    grant: Grant | None
    policy: Policy

    @property
    def may_schedule(self) -> bool:
        try:
            check_scheduler(self.relation, self.grant)
        except CalproxyError:
            return False
        return True


async def account_policy(store: Store | Principals, account_id: str) -> Policy:
    """The account's policy (defaults for an unknown account); cached when asked of the
    principal cache."""
    if isinstance(store, Principals):
        return await store.policy(account_id)
    account = await store.get_account(account_id)
    return load_policy(account.settings if account else {})


async def find_user(store: Store | Principals, caller: User, ref: str) -> User | None:
    """A ``{user}`` reference: ``me``, an email, or a user id."""
    if ref == "me":
        return caller
    if "@" in ref:
        return await store.get_user_by_email(ref.strip().lower())
    return await store.get_user(ref)


async def resolve_target(store: Store | Principals, caller: User, ref: str) -> Target:
    """``ref`` as seen by ``caller``; 404 for unknown users and, told apart only by its
    class (:class:`OutsiderNotFound`), for outsiders."""
    owner = await find_user(store, caller, ref)
    if owner is None:
        raise NotFound("user: no such user", "user_not_found")
    delegation = await store.get_delegation(owner.id, caller.id)
    grant = None if delegation is None else Grant(delegation.can_schedule,
                                                  delegation.can_view_private)
    rel = relation(Party(caller.id, caller.account_id), Party(owner.id, owner.account_id), grant)
    if rel is Relation.OUTSIDER:
        raise OutsiderNotFound(caller, owner)
    require_visible(rel)
    return Target(caller, owner, rel, grant, await account_policy(store, owner.account_id))


def may_write(target: Target, integration: Integration) -> bool:
    """Whether the caller may write this integration's calendars (shown as ``can_edit``)."""
    try:
        check_calendar_write(target.relation, target.grant, target.policy.account_permissions,
                             integration.granted)
    except CalproxyError:
        return False
    return True


def check_events_read(target: Target) -> None:
    """Colleagues get free/busy only (403), and a no-access policy serves nothing."""
    events_audience(target.relation, target.grant, False)
    check_calendar_read(target.policy.account_permissions)


def visible_busy_allowed(target: Target) -> Audience:
    """Everyone in the owner's account may see free/busy, unless the policy serves nothing."""
    audience = freebusy_audience(target.relation)
    check_calendar_read(target.policy.account_permissions)
    return audience
