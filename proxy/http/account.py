"""Account settings (the integration policy) and the account's users."""

from __future__ import annotations

from aiohttp import web

from proxy.core.policy import Reason, apply_patch, load_policy, stored_form, suspension_reason
from proxy.errors import Forbidden
from proxy.http.auth import current_user
from proxy.http.input import json_body
from proxy.http.keys import CONNECTIONS, STORE
from proxy.http.me import facts
from proxy.http.views import integration_json, user_json
from proxy.store.records import IntegrationStatus, User

#: suspensions that lift by themselves once the policy allows the integration again
_SELF_LIFTING = {Reason.INTEGRATION_DISABLED.value, Reason.DOMAIN_NOT_ALLOWED.value}


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only account admins may do this.", "admin_only")


async def get_settings(request: web.Request) -> web.Response:
    account = await request.app[STORE].get_account(current_user(request).account_id)
    return web.json_response(load_policy(account.settings if account else {}).as_json())


async def patch_settings(request: web.Request) -> web.Response:
    user = current_user(request)
    _require_admin(user)
    body = await json_body(request)
    store = request.app[STORE]
    account = await store.get_account(user.account_id)
    policy = apply_patch(load_policy(account.settings if account else {}), body)
    await store.save_account_settings(user.account_id, stored_form(policy))
    await _enforce(request, user.account_id)
    return web.json_response(policy.as_json())


async def _enforce(request: web.Request, account_id: str) -> None:
    """Suspend what the new policy forbids; lift suspensions it no longer needs."""
    store = request.app[STORE]
    account = await store.get_account(account_id)
    policy = load_policy(account.settings if account else {})
    owners = {u.id: u for u in await store.list_users(account_id)}
    for integration in await store.list_account_integrations(account_id):
        reason = suspension_reason(policy, facts(integration, owners[integration.user_id]))
        if reason is not None and integration.status is not IntegrationStatus.PENDING:
            if (integration.status, integration.reason) != (IntegrationStatus.SUSPENDED, reason):
                await store.update_integration(integration.id,
                                               status=IntegrationStatus.SUSPENDED, reason=reason)
                await request.app[CONNECTIONS].forget(integration.id)
        elif (reason is None and integration.status is IntegrationStatus.SUSPENDED
              and integration.reason in _SELF_LIFTING):
            await store.update_integration(integration.id, status=IntegrationStatus.CONNECTED,
                                           reason=None)


async def list_users(request: web.Request) -> web.Response:
    user = current_user(request)
    _require_admin(user)
    store = request.app[STORE]
    users = await store.list_users(user.account_id)
    out = []
    for member in users:
        integrations = await store.list_integrations(member.id)
        out.append({**user_json(member),
                    "integrations": [integration_json(i) for i in integrations]})
    return web.json_response({"users": out})
