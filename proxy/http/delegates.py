"""Delegations over the JSON API: thin callers of :mod:`proxy.actions.delegates`."""

from __future__ import annotations

from aiohttp import web

from proxy.actions import delegates as actions
from proxy.http.auth import current_user
from proxy.http.input import get_bool, json_body, only_fields
from proxy.http.keys import deps
from proxy.http.replies import json_reply
from proxy.http.views import delegation_json


async def list_delegates(request: web.Request) -> web.Response:
    listed = await actions.delegates(deps(request.app), current_user(request))
    return json_reply({"delegates": [delegation_json(d, u) for d, u in listed]})


async def list_delegators(request: web.Request) -> web.Response:
    listed = await actions.delegators(deps(request.app), current_user(request))
    return json_reply({"delegators": [delegation_json(d, u) for d, u in listed]})


async def put_delegate(request: web.Request) -> web.Response:
    body = await json_body(request)
    only_fields(body, {"can_schedule", "can_view_private"})
    can_schedule = bool(get_bool(body, "can_schedule", False))
    can_view_private = bool(get_bool(body, "can_view_private", False))
    saved, other = await actions.assign(deps(request.app), current_user(request),
                                        request.match_info["email"], can_schedule,
                                        can_view_private)
    return json_reply(delegation_json(saved, other))


async def delete_delegate(request: web.Request) -> web.Response:
    await actions.remove(deps(request.app), current_user(request), request.match_info["email"])
    return web.Response(status=204)
