"""Account settings (the integration policy) and the account's users."""

from __future__ import annotations

from aiohttp import web

from proxy.actions.policy import account_users, require_admin, update_settings
from proxy.http.auth import current_user
from proxy.http.context import caller_policy
from proxy.http.input import json_body
from proxy.http.keys import deps
from proxy.http.replies import json_reply
from proxy.http.views import integration_json, user_json


async def get_settings(request: web.Request) -> web.Response:
    return json_reply((await caller_policy(request)).as_json())


async def patch_settings(request: web.Request) -> web.Response:
    user = current_user(request)
    require_admin(user)  # refused before the body is read
    policy = await update_settings(deps(request.app), user, await json_body(request))
    return json_reply(policy.as_json())


async def list_users(request: web.Request) -> web.Response:
    listed = await account_users(deps(request.app), current_user(request))
    return json_reply({"users": [
        {**user_json(member), "integrations": [integration_json(i) for i in integrations]}
        for member, integrations in listed]})
