"""Calendars of a user, and which of them are synced."""

from __future__ import annotations

from aiohttp import web

from proxy.core.access import Relation, events_audience
from proxy.errors import BadRequest, Forbidden
from proxy.http.context import resolve_target
from proxy.http.input import get_bool, json_body, only_fields
from proxy.http.keys import CALENDARS
from proxy.http.replies import json_reply
from proxy.http.views import calendar_json


async def list_calendars(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    events_audience(target.relation, target.grant, False)  # owner and delegates only
    # listing asks the provider, so calendars created upstream appear here to be chosen
    pairs = await request.app[CALENDARS].calendars(target.owner.id, refresh=True)
    return json_reply({"calendars": [calendar_json(c, i.service.value)
                                            for i, c in pairs]})


async def patch_calendar(request: web.Request) -> web.Response:
    target = await resolve_target(request)
    if target.relation is not Relation.SELF:
        raise Forbidden("Only the owner chooses which calendars are synced.", "forbidden")
    body = await json_body(request)
    only_fields(body, {"synced"})
    synced = get_bool(body, "synced")
    if synced is None:
        raise BadRequest("synced: required", "missing_field")
    service = request.app[CALENDARS]
    record = await service.set_synced(target.owner.id, request.match_info["id"], synced)
    pairs = {c.id: i.service.value for i, c in await service.calendars(target.owner.id)}
    return json_reply(calendar_json(record, pairs.get(record.id, "")))
