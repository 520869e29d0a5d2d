"""The caller, and the sign-in prompt (DESIGN §2 rule 5)."""

from __future__ import annotations

from aiohttp import web

from proxy.actions.sign_in import record_sign_in
from proxy.http.auth import current_user
from proxy.http.input import get_str, json_body, only_fields
from proxy.http.keys import PRINCIPALS, deps
from proxy.http.replies import json_reply
from proxy.http.views import integration_json, user_json


async def me(request: web.Request) -> web.Response:
    """The caller, their account and integrations, through the principal cache the read
    path uses (dropped by the store's announcements of an account or integration change,
    so a connect or a revocation shows in the very next request): a repeated call sends
    no SQL. Each SQLite read costs several hops to the driver's thread, and on a busy
    machine every hop waits for a core."""
    user = current_user(request)
    principals = request.app[PRINCIPALS]
    account = await principals.account(user.account_id)
    integrations = await principals.list_integrations(user.id)
    return json_reply({
        "user": user_json(user),
        "account": {"id": user.account_id, "name": account.name if account else None},
        "integrations": [integration_json(i) for i in integrations],
    })


async def sign_in(request: web.Request) -> web.Response:
    body = await json_body(request)
    only_fields(body, {"client_version"})
    version = get_str(body, "client_version", required=True, max_len=32) or ""
    prompt = await record_sign_in(deps(request.app), current_user(request), version)
    if prompt is None:
        return json_reply({"prompt": None})
    return json_reply({"prompt": {"service": prompt.decision.service.value,
                                         "reason": prompt.decision.reason.value,
                                         "authorize_url": prompt.authorize_url}})
