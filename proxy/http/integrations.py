"""Connecting providers over the JSON API: thin callers of :mod:`proxy.actions.integrations`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from proxy.actions import integrations as actions
from proxy.core.model import Service
from proxy.core.policy import parse_permissions
from proxy.errors import BadRequest, CalproxyError
from proxy.http.auth import current_user
from proxy.http.input import get_str, json_body, only_fields
from proxy.http.keys import CALLBACK_LANDING, STORE, deps
from proxy.http.replies import json_reply
from proxy.http.views import integration_json
from proxy.store.records import Integration


async def list_integrations(request: web.Request) -> web.Response:
    items = await request.app[STORE].list_integrations(current_user(request).id)
    return json_reply({"integrations": [integration_json(i) for i in items]})


def _service(body: dict[str, Any]) -> Service:
    raw = get_str(body, "service", required=True)
    try:
        return Service(raw or "")
    except ValueError:
        known = ", ".join(s.value for s in Service)
        raise BadRequest(f"service: unknown service (known: {known})", "invalid_field") from None


async def create_integration(request: web.Request) -> web.Response:
    body = await json_body(request)
    only_fields(body, {"service", "permissions", "ews_url", "username", "password"})
    service = _service(body)
    requested = (parse_permissions("permissions", body["permissions"])
                 if body.get("permissions") is not None else None)
    wanted = actions.ConnectRequest(
        service, requested, get_str(body, "ews_url", max_len=2000),
        get_str(body, "username", max_len=320), get_str(body, "password", max_len=1000))
    done = await actions.connect(deps(request.app), current_user(request), wanted)
    answer: dict[str, Any]
    if done.authorize_url is None:
        answer = integration_json(done.integration)
    else:
        answer = {"id": done.integration.id, "status": "pending",
                  "authorize_url": done.authorize_url, "service": service.value}
    if done.warnings:
        answer["warnings"] = done.warnings
    return json_reply(answer, status=201)


async def delete_integration(request: web.Request) -> web.Response:
    await actions.disconnect(deps(request.app), current_user(request),
                             request.match_info["id"])
    return web.Response(status=204)


async def oauth_callback(request: web.Request) -> web.StreamResponse:
    """The redirect target: trade the code for tokens and check the mailbox.

    A browser that started the dance in the portal lands back on its page (the portal's
    ``CALLBACK_LANDING`` decides); anyone else gets the API's JSON.
    """
    landing = request.app.get(CALLBACK_LANDING)
    try:
        integration = await finish_callback(request)
    except CalproxyError as exc:
        answer = await landing(request, None, exc) if landing else None
        if answer is None:
            raise
        return answer
    answer = await landing(request, integration, None) if landing else None
    return answer or json_reply(integration_json(integration))


async def finish_callback(request: web.Request) -> Integration:
    """The callback's work for any shell: the connected integration, or an error raised."""
    app_deps = deps(request.app)
    integration = await actions.pending_for_state(app_deps, request.query.get("state", ""))
    if "error" in request.query:
        await actions.deny_authorization(app_deps, integration, request.query["error"])
    code = request.query.get("code")
    if not code:
        raise BadRequest("code: required", "missing_field")
    return await actions.finish_oauth(app_deps, integration, code)
