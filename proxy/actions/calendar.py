"""Reading and writing a user's calendar as a caller may (DESIGN §3).

Both the JSON API and the portal's week view read through :func:`visible_events` and
:func:`visible_busy` (or their ``*_answer`` forms, which carry the rendered bytes and their
ETag), so what a caller sees is decided once, by :mod:`proxy.core.access` and
:func:`proxy.redaction.redact`, and cached once, by :mod:`proxy.actions.reads`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from proxy.actions.deps import Deps
from proxy.actions.policy import account_policy
from proxy.cache import Principals
from proxy.cache.views import Answer
from proxy.core.access import (
    Grant,
    Party,
    Relation,
    check_calendar_read,
    check_calendar_write,
    check_private_write,
    check_scheduler,
    events_audience,
    freebusy_audience,
    relation,
    require_visible,
)
from proxy.core.mirror import MirroredEvent
from proxy.core.model import EventDraft
from proxy.core.policy import Policy
from proxy.errors import BadRequest, CalproxyError, NotFound
from proxy.operations.audit import audit, audit_private_reads
from proxy.redaction import Audience, VisibleEvent, redact
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


async def audiences(deps: Deps, target: Target) -> dict[str, Audience]:
    """The caller's audience per integration of the owner (grants differ per service)."""
    return await deps.reader.audiences(target)


def shown(items: list[MirroredEvent], by_integration: dict[str, Audience]) -> list[VisibleEvent]:
    out = (redact(item, by_integration[item.integration_id]) for item in items
           if item.integration_id in by_integration)
    return [v for v in out if v is not None]


def check_events_read(target: Target) -> None:
    """Colleagues get free/busy only (403), and a no-access policy serves nothing."""
    events_audience(target.relation, target.grant, False)
    check_calendar_read(target.policy.account_permissions)


def visible_busy_allowed(target: Target) -> Audience:
    """Everyone in the owner's account may see free/busy, unless the policy serves nothing."""
    audience = freebusy_audience(target.relation)
    check_calendar_read(target.policy.account_permissions)
    return audience


# The reads themselves are assembled and cached by :class:`proxy.actions.reads.Reader`;
# these name them for the JSON handlers and the portal alike.

async def events_answer(deps: Deps, target: Target, start: datetime, end: datetime,
                        calendar_id: str | None = None) -> Answer:
    """``{"events": [...]}`` as bytes with its ETag, and the visible events in it."""
    answer = await deps.reader.events(target, start, end, calendar_id)
    audit_private_reads(deps.audit, target.caller, target.owner, target.relation,
                        answer.visible)
    return answer


async def visible_events(deps: Deps, target: Target, start: datetime, end: datetime,
                         calendar_id: str | None = None) -> list[VisibleEvent]:
    """The owner's occurrences in [start, end) as the caller may see them."""
    return list((await events_answer(deps, target, start, end, calendar_id)).visible)


async def busy_answer(deps: Deps, target: Target, start: datetime, end: datetime) -> Answer:
    """``{"intervals": [...]}`` as bytes with its ETag, and the busy blocks behind it."""
    return await deps.reader.freebusy(target, start, end)


async def visible_busy(deps: Deps, target: Target, start: datetime,
                       end: datetime) -> list[VisibleEvent]:
    """What free/busy is made of: every event as a busy block, for anyone in the account."""
    return list((await busy_answer(deps, target, start, end)).visible)


async def event_answer(deps: Deps, target: Target, event_id: str) -> Answer:
    """One event as bytes with its ETag; 404 unless the caller may see it."""
    answer = await deps.reader.event(target, event_id)
    audit_private_reads(deps.audit, target.caller, target.owner, target.relation,
                        answer.visible)
    return answer


async def find_event(deps: Deps, target: Target,
                     event_id: str) -> tuple[MirroredEvent, VisibleEvent]:
    """The mirrored event and how the caller sees it; 404 unless the caller may."""
    return await deps.reader.find(target, event_id)


async def _as_seen(deps: Deps, target: Target, item: MirroredEvent) -> VisibleEvent | None:
    visible = shown([item], await audiences(deps, target))
    return visible[0] if visible else None


async def create_event(deps: Deps, target: Target, draft: EventDraft,
                       calendar_id: str | None) -> tuple[str, VisibleEvent | None]:
    """Write a new event through to the owner's provider; its id and how the caller sees it."""
    check_scheduler(target.relation, target.grant)  # before any upstream call
    integration, calendar = await deps.calendars.resolve_calendar(target.owner.id, calendar_id)
    check_calendar_write(target.relation, target.grant, target.policy.account_permissions,
                         integration.granted)
    if draft.sensitivity is not None:
        check_private_write(target.relation, target.grant, draft.sensitivity.is_private)
    item = await deps.calendars.create_event((integration, calendar), draft)
    _audit_write(deps, target, "event.created", item.id)
    return item.id, await _as_seen(deps, target, item)


async def _writable(deps: Deps, target: Target, event_id: str) -> MirroredEvent:
    item, _ = await find_event(deps, target, event_id)
    integration = await deps.store.get_integration(item.integration_id)
    check_calendar_write(target.relation, target.grant, target.policy.account_permissions,
                         integration.granted if integration else None)
    check_private_write(target.relation, target.grant, item.event.is_private)
    return item


async def update_event(deps: Deps, target: Target, event_id: str,
                       draft: EventDraft) -> tuple[str, VisibleEvent | None]:
    check_scheduler(target.relation, target.grant)
    if not draft.given():
        raise BadRequest("body: name at least one writable field", "empty_patch")
    item = await _writable(deps, target, event_id)
    if draft.sensitivity is not None:
        check_private_write(target.relation, target.grant, draft.sensitivity.is_private)
    updated = await deps.calendars.update_event(target.owner.id, item, draft)
    _audit_write(deps, target, "event.updated", updated.id)
    return updated.id, await _as_seen(deps, target, updated)


async def delete_event(deps: Deps, target: Target, event_id: str) -> None:
    check_scheduler(target.relation, target.grant)
    item = await _writable(deps, target, event_id)
    await deps.calendars.delete_event(target.owner.id, item)
    _audit_write(deps, target, "event.deleted", item.id)


def _audit_write(deps: Deps, target: Target, action: str, event_id: str) -> None:
    """A write by someone other than the owner is on the owner's trail."""
    if target.relation is not Relation.SELF:
        audit(deps.audit, action, target.caller, target.owner, event_id)
