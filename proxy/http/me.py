"""The caller, and the sign-in prompt (DESIGN §2 rule 5)."""

from __future__ import annotations

import contextlib

from aiohttp import web

from proxy.core.model import Service
from proxy.core.policy import IntegrationFacts, PromptDecision, load_policy, sign_in_prompt
from proxy.errors import Unprocessable
from proxy.http.auth import current_user
from proxy.http.input import get_str, json_body, only_fields
from proxy.http.integrations import O365_EWS_URL, begin_oauth_flow
from proxy.http.keys import SETTINGS, STORE
from proxy.http.views import integration_json, user_json
from proxy.store.records import Integration, IntegrationStatus, User


async def me(request: web.Request) -> web.Response:
    user = current_user(request)
    store = request.app[STORE]
    account = await store.get_account(user.account_id)
    integrations = await store.list_integrations(user.id)
    return web.json_response({
        "user": user_json(user),
        "account": {"id": user.account_id, "name": account.name if account else None},
        "integrations": [integration_json(i) for i in integrations],
    })


def facts(integration: Integration, owner: User) -> IntegrationFacts:
    suspended = integration.status is IntegrationStatus.SUSPENDED
    return IntegrationFacts(integration.service, integration.requested, owner.email,
                            integration.reason if suspended else None)


async def sign_in(request: web.Request) -> web.Response:
    body = await json_body(request)
    only_fields(body, {"client_version"})
    version = get_str(body, "client_version", required=True, max_len=32) or ""
    decision, url = await prompt_at_sign_in(request, current_user(request), version)
    if decision is None:
        return web.json_response({"prompt": None})
    return web.json_response({"prompt": {"service": decision.service.value,
                                         "reason": decision.reason.value,
                                         "authorize_url": url}})


async def prompt_at_sign_in(request: web.Request, user: User, version: str) -> tuple[
        PromptDecision | None, str | None]:
    """Record a sign-in of ``user`` with a client of ``version`` and apply rule 5: the
    prompt, if any, and the authorize URL that answers it (``None`` where the service is
    not OAuth-configured here). The API's ``/v1/me/sign-in`` and the portal share it."""
    store = request.app[STORE]
    account = await store.get_account(user.account_id)
    policy = load_policy(account.settings if account else {})
    integrations = await store.list_integrations(user.id)
    before = await store.record_sign_in(user.id)
    connected = any(i.status is IntegrationStatus.CONNECTED for i in integrations)
    decision = sign_in_prompt(policy, user.email, [facts(i, user) for i in integrations],
                              connected, before, version,
                              request.app[SETTINGS].min_prompt_client_version)
    if decision is None:
        return None, None
    url = None
    if decision.authorize:
        details = {"ews_url": O365_EWS_URL} if decision.service is Service.EWS_O365 else {}
        with contextlib.suppress(Unprocessable):  # not configured here: tell, do not send
            _, url = await begin_oauth_flow(request, user, decision.service,
                                            policy.account_permissions, details)
    return decision, url
