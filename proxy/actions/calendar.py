"""Reading and writing a user's calendar as a caller may (DESIGN §3).

Who the caller is to the owner (:class:`~proxy.actions.target.Target`) and the checks a
read makes first live in :mod:`proxy.actions.target`, which the read path shares.

Both the JSON API and the portal's week view read through :func:`visible_events` and
:func:`visible_busy` (or their ``*_answer`` forms, which carry the rendered bytes and their
ETag), so what a caller sees is decided once, by :mod:`proxy.core.access` and
:func:`proxy.redaction.redact`, and cached once, by :mod:`proxy.actions.reads`.
"""

from __future__ import annotations

from datetime import datetime

from proxy.actions.deps import Deps
from proxy.actions.target import Target
from proxy.cache.views import Answer
from proxy.core.access import (
    Relation,
    check_calendar_write,
    check_private_write,
    check_scheduler,
)
from proxy.core.mirror import MirroredEvent
from proxy.core.model import EventDraft
from proxy.errors import BadRequest
from proxy.operations.audit import audit, audit_private_reads
from proxy.redaction import Audience, VisibleEvent, redact


async def audiences(deps: Deps, target: Target) -> dict[str, Audience]:
    """The caller's audience per integration of the owner (grants differ per service)."""
    return await deps.reader.audiences(target)


def shown(items: list[MirroredEvent], by_integration: dict[str, Audience]) -> list[VisibleEvent]:
    out = (redact(item, by_integration[item.integration_id]) for item in items
           if item.integration_id in by_integration)
    return [v for v in out if v is not None]


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
