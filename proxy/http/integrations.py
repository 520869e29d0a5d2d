"""Connecting providers: OAuth services start pending and finish at the callback; EWS
with a password connects at once. Every refusal of policy comes from proxy.core.policy."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from proxy.core.mirror import mailbox_identity
from proxy.core.model import Permissions, Service
from proxy.core.policy import (
    check_ews_url,
    granted_permissions,
    parse_permissions,
    permissions_for_new_integration,
    scopes_for,
)
from proxy.errors import BadRequest, CalproxyError, NotFound, Unprocessable
from proxy.http.auth import current_user
from proxy.http.context import caller_policy
from proxy.http.input import get_str, json_body, only_fields
from proxy.http.keys import CALENDARS, CONNECTIONS, HTTP, REGISTRY, SETTINGS, STORE
from proxy.http.views import integration_json
from proxy.providers.base import Connection, ServiceEntry
from proxy.store.records import Integration, IntegrationStatus, User
from proxy.sync.oauth import exchange_code, start_authorization

O365_EWS_URL = "https://outlook.office365.com/EWS/Exchange.asmx"
EWS_WARNING = ("EWS grants calproxy full access to the mailbox; calproxy enforces the "
               "account's calendar and contacts permissions itself.")
EWS_O365_WARNING = ("Microsoft is retiring EWS in Exchange Online from October 2026; "
                    "connect Office 365 with the graph service instead.")


async def list_integrations(request: web.Request) -> web.Response:
    items = await request.app[STORE].list_integrations(current_user(request).id)
    return web.json_response({"integrations": [integration_json(i) for i in items]})


def _entry(request: web.Request, service: Service) -> ServiceEntry:
    entry = request.app[REGISTRY].get(service)
    if entry is None:
        raise Unprocessable(f"service: {service.value} is not available on this server.",
                            "service_unavailable")
    return entry


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
    user = current_user(request)
    service = _service(body)
    requested = (parse_permissions("permissions", body["permissions"])
                 if body.get("permissions") is not None else None)
    policy = await caller_policy(request)
    permissions = permissions_for_new_integration(policy, service, user.email, requested)
    if service in {Service.EXCHANGE_EWS, Service.EWS_O365}:
        ews_url = _ews_url(body, service)
        parts = urlsplit(ews_url)
        check_ews_url(policy, service, parts.scheme, parts.hostname or "",
                      request.app[SETTINGS].ews_allow_http)
        entry = _entry(request, service)
        if entry.validate_connect is not None:
            await entry.validate_connect(request.app[SETTINGS], {"ews_url": ews_url},
                                         policy.ews_hosts.value, service)
        if service is Service.EXCHANGE_EWS:
            return await _connect_ews(request, user, body, ews_url, permissions)
        return await _begin_oauth(request, user, service, permissions, {"ews_url": ews_url},
                                  [EWS_WARNING, EWS_O365_WARNING])
    return await _begin_oauth(request, user, service, permissions, {}, [])


def _ews_url(body: dict[str, Any], service: Service) -> str:
    url = get_str(body, "ews_url", required=service is Service.EXCHANGE_EWS, max_len=2000)
    url = url or O365_EWS_URL
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadRequest("ews_url: expected an https URL of an EWS endpoint", "invalid_field")
    return url


async def _connect_ews(request: web.Request, user: User, body: dict[str, Any], ews_url: str,
                       permissions: Permissions) -> web.Response:
    username = get_str(body, "username", required=True, max_len=320) or ""
    password = get_str(body, "password", required=True, max_len=1000) or ""
    credentials = {"ews_url": ews_url, "username": username, "password": password,
                   "email": user.email}
    app = request.app
    entry = _entry(request, Service.EXCHANGE_EWS)
    provider = entry.factory(Connection(app[SETTINGS], app[HTTP], credentials,
                                        mailbox_key=f"probe:{user.id}"))
    try:
        await provider.check()
    finally:
        await provider.close()
    store = app[STORE]
    await _drop_previous(request, user, Service.EXCHANGE_EWS)
    integration = await store.create_integration(
        user.id, Service.EXCHANGE_EWS, IntegrationStatus.CONNECTED, permissions, permissions,
        details={"ews_url": ews_url, "username": username,
                 "mailbox": mailbox_identity(None, user.email, urlsplit(ews_url).hostname)},
        credentials={"password": password, "username": username, "ews_url": ews_url})
    return web.json_response({**integration_json(integration), "warnings": [EWS_WARNING]},
                             status=201)


async def _drop_previous(request: web.Request, user: User, service: Service) -> None:
    """One integration per service: connecting again replaces the old one."""
    for old in await request.app[STORE].list_integrations(user.id):
        if old.service is service:
            await request.app[CONNECTIONS].forget(old.id)
            await request.app[STORE].delete_integration(old.id)


async def begin_oauth_flow(request: web.Request, user: User, service: Service,
                           permissions: Permissions, details: dict[str, str]) -> tuple[
                               Integration, str]:
    """A pending integration (or the user's suspended one of ``service``) and the
    authorize URL that finishes it."""
    app = request.app
    oauth = _entry(request, service).oauth
    if oauth is None:
        raise Unprocessable(f"service: {service.value} does not use OAuth", "invalid_field")
    if not oauth.client_id(app[SETTINGS]):
        raise Unprocessable(f"service: {service.value} is not configured on this server "
                            "(no OAuth client id).", "service_unavailable")
    auth = start_authorization(oauth, app[SETTINGS], scopes_for(service, permissions),
                               user.email)
    store = app[STORE]
    for old in await store.list_integrations(user.id):
        if old.service is service and old.status is not IntegrationStatus.CONNECTED:
            # re-integrating a suspended one keeps its mirror: it restores service
            await store.set_credentials(old.id, {**await store.get_credentials(old.id),
                                                 "pkce_verifier": auth.verifier})
            updated = await store.update_integration(
                old.id, requested=permissions, oauth_state=auth.state,
                details={**old.details, **details})
            return updated, auth.url
    integration = await store.create_integration(
        user.id, service, IntegrationStatus.PENDING, permissions, permissions,
        details=details, credentials={"pkce_verifier": auth.verifier}, oauth_state=auth.state)
    return integration, auth.url


async def _begin_oauth(request: web.Request, user: User, service: Service,
                       permissions: Permissions, details: dict[str, str],
                       warnings: list[str]) -> web.Response:
    integration, url = await begin_oauth_flow(request, user, service, permissions, details)
    body: dict[str, Any] = {"id": integration.id, "status": "pending", "authorize_url": url,
                            "service": service.value}
    if warnings:
        body["warnings"] = warnings
    return web.json_response(body, status=201)


async def delete_integration(request: web.Request) -> web.Response:
    store = request.app[STORE]
    integration = await store.get_integration(request.match_info["id"])
    if integration is None or integration.user_id != current_user(request).id:
        raise NotFound("integration: no such integration", "integration_not_found")
    await request.app[CONNECTIONS].forget(integration.id)
    await store.delete_integration(integration.id)
    return web.Response(status=204)


async def oauth_callback(request: web.Request) -> web.Response:
    """The redirect target: trade the code for tokens and check the mailbox."""
    store = request.app[STORE]
    state = request.query.get("state", "")
    integration = await store.integration_for_state(state) if state else None
    if integration is None or integration.status is IntegrationStatus.CONNECTED:
        raise BadRequest("state: unknown or already used; start the integration again",
                         "invalid_state")
    if "error" in request.query:
        await store.update_integration(integration.id, status=IntegrationStatus.ERROR,
                                       reason="authorization_denied", oauth_state=None)
        raise BadRequest("The provider did not authorize the integration "
                         f"({request.query['error'][:64]}).", "authorization_denied")
    code = request.query.get("code")
    if not code:
        raise BadRequest("code: required", "missing_field")
    return await _finish_oauth(request, integration, code)


async def _finish_oauth(request: web.Request, integration: Integration,
                        code: str) -> web.Response:
    app, store = request.app, request.app[STORE]
    oauth = _entry(request, integration.service).oauth
    assert oauth is not None
    verifier = (await store.get_credentials(integration.id)).get("pkce_verifier", "")
    await store.update_integration(integration.id, oauth_state=None)  # single use
    try:
        tokens = await exchange_code(app[HTTP], oauth, app[SETTINGS], code, verifier)
        granted = granted_permissions(integration.service, tokens.scope, integration.requested)
        await store.set_credentials(integration.id, tokens.as_credentials())
        integration = await store.update_integration(
            integration.id, granted=granted, scopes=tokens.scope)
        provider = await app[CONNECTIONS].build(integration)
        named = await provider.check() or tokens.email
        integration = await _record_mailbox(request, integration, named)
    except CalproxyError as exc:
        if integration.status is IntegrationStatus.PENDING:  # a re-integration keeps its
            await store.update_integration(  # suspension (and its sign-in prompt)
                integration.id, status=IntegrationStatus.ERROR, reason=exc.code)
        raise
    await _replace_older(request, integration)
    integration = await store.update_integration(
        integration.id, status=IntegrationStatus.CONNECTED, reason=None)
    with contextlib.suppress(CalproxyError):  # listed again at the first read otherwise
        await app[CALENDARS].calendars(integration.user_id, refresh=True)
    return web.json_response(integration_json(integration))


async def _record_mailbox(request: web.Request, integration: Integration,
                          named: str | None) -> Integration:
    """Note which mailbox the integration reached (``details["mailbox"]``): the public ids
    of its calendars, events and contacts derive from it, so reconnecting the same mailbox
    gives the same ids (DESIGN §5)."""
    store = request.app[STORE]
    owner = await store.get_user(integration.user_id)
    host = urlsplit(integration.details.get("ews_url", "")).hostname
    mailbox = mailbox_identity(named, owner.email if owner else "", host)
    return await store.update_integration(
        integration.id, details={**integration.details, "mailbox": mailbox})


async def _replace_older(request: web.Request, integration: Integration) -> None:
    for old in await request.app[STORE].list_integrations(integration.user_id):
        if old.service is integration.service and old.id != integration.id:
            await request.app[CONNECTIONS].forget(old.id)
            await request.app[STORE].delete_integration(old.id)
