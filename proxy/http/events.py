"""Events and free/busy over the JSON API: thin callers of :mod:`proxy.actions.calendar`,
where every answer goes through ``redact`` for the caller; reads answer with an ETag of
the bytes sent and 304 for ``If-None-Match``."""

from __future__ import annotations

from aiohttp import web

from proxy.actions import calendar as actions
from proxy.actions.target import check_events_read, visible_busy_allowed
from proxy.core.access import check_scheduler
from proxy.http.conditional import json_answer
from proxy.http.context import resolve_target
from proxy.http.event_input import parse_event_draft
from proxy.http.input import json_body, query_window
from proxy.http.keys import deps
from proxy.http.replies import json_reply
from proxy.redaction import VisibleEvent
from proxy.render.json import event_json


async def list_events(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    check_events_read(target)  # 403 for colleagues, before the window is read
    start, end = query_window(request)
    answer = await actions.events_answer(deps(request.app), target, start, end,
                                         request.query.get("calendar"))
    return json_answer(request, answer)


async def get_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    answer = await actions.event_answer(deps(request.app), target, request.match_info["id"])
    return json_answer(request, answer)


def _written(event_id: str, visible: VisibleEvent | None) -> dict[str, object]:
    return event_json(visible) if visible is not None else {"id": event_id}


async def create_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    check_scheduler(target.relation, target.grant)  # refused before the body is read
    draft, calendar_id = parse_event_draft(await json_body(request), creating=True)
    event_id, visible = await actions.create_event(deps(request.app), target, draft,
                                                   calendar_id)
    return json_reply(_written(event_id, visible), status=201)


async def update_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    check_scheduler(target.relation, target.grant)
    draft, _ = parse_event_draft(await json_body(request), creating=False)
    event_id, visible = await actions.update_event(deps(request.app), target,
                                                   request.match_info["id"], draft)
    return json_reply(_written(event_id, visible))


async def delete_event(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    await actions.delete_event(deps(request.app), target, request.match_info["id"])
    return web.Response(status=204)


async def freebusy(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    visible_busy_allowed(target)
    start, end = query_window(request)
    return json_answer(request, await actions.busy_answer(deps(request.app), target, start,
                                                          end))
