"""Events and free/busy over HTTP: thin handlers around :class:`proxy.reads.Reader`.

Every answer goes through ``redact`` for the caller; reads answer with an ETag of the
bytes sent and 304 for ``If-None-Match``.
"""

from __future__ import annotations

from aiohttp import web

from proxy.core.access import (
    check_calendar_write,
    check_private_write,
    check_scheduler,
)
from proxy.core.mirror import MirroredEvent
from proxy.errors import BadRequest
from proxy.http.conditional import json_answer
from proxy.http.context import Target, resolve_target
from proxy.http.event_input import parse_event_draft
from proxy.http.input import json_body, query_window
from proxy.http.keys import CALENDARS, READER, STORE


async def list_events(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    request.app[READER].require_events(target)  # 403 before 400: the window says nothing
    start, end = query_window(request)
    answer = await request.app[READER].events(target, start, end,
                                              request.query.get("calendar"))
    return json_answer(request, answer)


async def get_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    return json_answer(request, await request.app[READER].event(target,
                                                                request.match_info["id"]))


async def freebusy(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    request.app[READER].require_freebusy(target)
    start, end = query_window(request)
    return json_answer(request, await request.app[READER].freebusy(target, start, end))


async def _written(request: web.Request, target: Target, item: MirroredEvent) -> web.Response:
    """The answer to a write: the event as the caller may see it (at least its id)."""
    return web.Response(body=await request.app[READER].written(target, item),
                        status=201 if request.method == "POST" else 200,
                        content_type="application/json")


async def _find(request: web.Request, target: Target) -> MirroredEvent:
    """The event of the path, 404 unless the caller may see it."""
    return await request.app[READER].find(target, request.match_info["id"])


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
    return await _written(request, target,
                          await service.create_event((integration, calendar), draft))


async def _writable(request: web.Request, target: Target) -> MirroredEvent:
    item = await _find(request, target)
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
    return await _written(request, target,
                          await request.app[CALENDARS].update_event(target.owner.id, item, draft))


async def delete_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    check_scheduler(target.relation, target.grant)
    item = await _writable(request, target)
    await request.app[CALENDARS].delete_event(target.owner.id, item)
    return web.Response(status=204)

