"""Events and free/busy: every answer goes through ``redact`` for the caller."""

from __future__ import annotations

from aiohttp import web

from proxy.core.access import (
    check_calendar_read,
    check_calendar_write,
    check_private_write,
    check_scheduler,
    events_audience,
    freebusy_audience,
)
from proxy.core.mirror import MirroredEvent
from proxy.errors import BadRequest, CalproxyError, NotFound
from proxy.http.context import Target, resolve_target
from proxy.http.event_input import parse_event_draft
from proxy.http.input import json_body, query_window
from proxy.http.keys import CALENDARS, STORE
from proxy.redaction import Audience, VisibleEvent, redact
from proxy.render.freebusy import freebusy_json
from proxy.render.json import event_json
from proxy.store.records import Integration


async def _audiences(request: web.Request, target: Target) -> dict[str, Audience]:
    """The caller's audience per integration of the owner (grants differ per service)."""
    integrations = await request.app[STORE].list_integrations(target.owner.id)
    return {i.id: events_audience(target.relation, target.grant, _may_write(target, i))
            for i in integrations}


def _may_write(target: Target, integration: Integration) -> bool:
    try:
        check_calendar_write(target.relation, target.grant, target.policy.account_permissions,
                             integration.granted)
    except CalproxyError:
        return False
    return True


def _visible(items: list[MirroredEvent], audiences: dict[str, Audience]) -> list[VisibleEvent]:
    shown = (redact(item, audiences[item.integration_id]) for item in items
             if item.integration_id in audiences)
    return [v for v in shown if v is not None]


async def list_events(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    events_audience(target.relation, target.grant, False)  # 403 for colleagues, first
    check_calendar_read(target.policy.account_permissions)
    start, end = query_window(request)
    calendar = request.query.get("calendar")
    items = await request.app[CALENDARS].occurrences(target.owner.id, start, end, calendar)
    visible = _visible(items, await _audiences(request, target))
    return web.json_response({"events": [event_json(v) for v in visible]})


async def _find(request: web.Request, target: Target) -> tuple[MirroredEvent, VisibleEvent]:
    item = await request.app[CALENDARS].event(target.owner.id, request.match_info["id"])
    visible = _visible([item], await _audiences(request, target))
    if not visible:
        raise NotFound("event: no such event", "event_not_found")
    return item, visible[0]


async def get_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    events_audience(target.relation, target.grant, False)
    check_calendar_read(target.policy.account_permissions)
    _, visible = await _find(request, target)
    return web.json_response(event_json(visible))


async def create_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    check_scheduler(target.relation, target.grant)  # before any upstream call
    draft, calendar_id = parse_event_draft(await json_body(request), creating=True)
    service = request.app[CALENDARS]
    integration, calendar = await service.resolve_calendar(target.owner.id, calendar_id)
    check_calendar_write(target.relation, target.grant, target.policy.account_permissions,
                         integration.granted)
    if draft.sensitivity is not None:
        check_private_write(target.relation, target.grant, draft.sensitivity.is_private)
    item = await service.create_event((integration, calendar), draft)
    visible = _visible([item], await _audiences(request, target))
    return web.json_response(event_json(visible[0]) if visible else {"id": item.id},
                             status=201)


async def _writable(request: web.Request, target: Target) -> MirroredEvent:
    item, _ = await _find(request, target)
    integration = await request.app[STORE].get_integration(item.integration_id)
    check_calendar_write(target.relation, target.grant, target.policy.account_permissions,
                         integration.granted if integration else None)
    check_private_write(target.relation, target.grant, item.event.is_private)
    return item


async def update_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    check_scheduler(target.relation, target.grant)
    draft, _ = parse_event_draft(await json_body(request), creating=False)
    if not draft.given():
        raise BadRequest("body: name at least one writable field", "empty_patch")
    item = await _writable(request, target)
    if draft.sensitivity is not None:
        check_private_write(target.relation, target.grant, draft.sensitivity.is_private)
    updated = await request.app[CALENDARS].update_event(target.owner.id, item, draft)
    visible = _visible([updated], await _audiences(request, target))
    return web.json_response(event_json(visible[0]) if visible else {"id": updated.id})


async def delete_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    check_scheduler(target.relation, target.grant)
    item = await _writable(request, target)
    await request.app[CALENDARS].delete_event(target.owner.id, item)
    return web.Response(status=204)


async def freebusy(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    audience = freebusy_audience(target.relation)
    check_calendar_read(target.policy.account_permissions)
    start, end = query_window(request)
    items = await request.app[CALENDARS].occurrences(target.owner.id, start, end)
    visible = [v for v in (redact(i, audience) for i in items) if v is not None]
    return web.json_response(freebusy_json(visible))
