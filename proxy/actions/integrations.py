"""Connecting, reconnecting and disconnecting providers (DESIGN §2 rules 1, 3, 4, 6-8).

OAuth services start pending and finish at the callback; EWS with a password connects at
once. Every refusal of policy comes from :mod:`proxy.core.policy`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from proxy.actions.deps import Deps
from proxy.actions.policy import account_policy
from proxy.core.mirror import mailbox_identity
from proxy.core.model import Permissions, Service
from proxy.core.policy import (
    check_ews_url,
    granted_permissions,
    permissions_for_new_integration,
    scopes_for,
)
from proxy.errors import BadRequest, CalproxyError, NotFound, Unprocessable
from proxy.operations.audit import audit
from proxy.providers.base import Connection, ServiceEntry
from proxy.store.records import Integration, IntegrationStatus, User
from proxy.sync.oauth import exchange_code, start_authorization

O365_EWS_URL = "https://outlook.office365.com/EWS/Exchange.asmx"
EWS_WARNING = ("EWS grants calproxy full access to the mailbox; calproxy enforces the "
               "account's calendar and contacts permissions itself.")
EWS_O365_WARNING = ("Microsoft is retiring EWS in Exchange Online from October 2026; "
                    "connect Office 365 with the graph service instead.")
EWS_SERVICES = frozenset({Service.EXCHANGE_EWS, Service.EWS_O365})


@dataclass(frozen=True, slots=True)
class ConnectRequest:
    service: Service
    permissions: Permissions | None = None
    ews_url: str | None = None
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    """A connect's outcome: ``authorize_url`` is set while an OAuth service is pending."""

    integration: Integration
    authorize_url: str | None = None
    warnings: list[str] = field(default_factory=list)


def service_entry(deps: Deps, service: Service) -> ServiceEntry:
    entry = deps.registry.get(service)
    if entry is None:
        raise Unprocessable(f"service: {service.value} is not available on this server.",
                            "service_unavailable")
    return entry


async def connect(deps: Deps, user: User, wanted: ConnectRequest) -> Connected:
    """Start (OAuth) or make (EWS with a password) ``user``'s integration of a service."""
    policy = await account_policy(deps.store, user.account_id)
    service = wanted.service
    permissions = permissions_for_new_integration(policy, service, user.email,
                                                  wanted.permissions)
    if service not in EWS_SERVICES:
        integration, url = await begin_oauth_flow(deps, user, service, permissions, {})
        return Connected(integration, url)
    ews_url = _ews_url(wanted.ews_url, service)
    parts = urlsplit(ews_url)
    check_ews_url(policy, service, parts.scheme, parts.hostname or "",
                  deps.settings.ews_allow_http)
    entry = service_entry(deps, service)
    if entry.validate_connect is not None:
        await entry.validate_connect(deps.settings, {"ews_url": ews_url},
                                     policy.ews_hosts.value, service)
    if service is Service.EXCHANGE_EWS:
        return await _connect_ews(deps, user, wanted, ews_url, permissions)
    integration, url = await begin_oauth_flow(deps, user, service, permissions,
                                              {"ews_url": ews_url})
    return Connected(integration, url, [EWS_WARNING, EWS_O365_WARNING])


def _ews_url(url: str | None, service: Service) -> str:
    if not url and service is Service.EXCHANGE_EWS:
        raise BadRequest("ews_url: required", "missing_field")
    url = url or O365_EWS_URL
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadRequest("ews_url: expected an https URL of an EWS endpoint", "invalid_field")
    return url


async def _connect_ews(deps: Deps, user: User, wanted: ConnectRequest, ews_url: str,
                       permissions: Permissions) -> Connected:
    if not wanted.username:
        raise BadRequest("username: required", "missing_field")
    if not wanted.password:
        raise BadRequest("password: required", "missing_field")
    credentials = {"ews_url": ews_url, "username": wanted.username,
                   "password": wanted.password, "email": user.email}
    entry = service_entry(deps, Service.EXCHANGE_EWS)
    provider = entry.factory(Connection(deps.settings, deps.http, credentials,
                                        mailbox_key=f"probe:{user.id}"))
    try:
        await provider.check()
    finally:
        await provider.close()
    await _drop_previous(deps, user, Service.EXCHANGE_EWS)
    integration = await deps.store.create_integration(
        user.id, Service.EXCHANGE_EWS, IntegrationStatus.CONNECTED, permissions, permissions,
        details={"ews_url": ews_url, "username": wanted.username,
                 "mailbox": mailbox_identity(None, user.email, urlsplit(ews_url).hostname)},
        credentials={"password": wanted.password, "username": wanted.username,
                     "ews_url": ews_url})
    audit(deps.audit, "integration.connected", user, user, integration.id)
    return Connected(integration, None, [EWS_WARNING])


async def _drop_previous(deps: Deps, user: User, service: Service) -> None:
    """One integration per service: connecting again replaces the old one."""
    for old in await deps.store.list_integrations(user.id):
        if old.service is service:
            await remove_integration(deps, old.id)


async def remove_integration(deps: Deps, integration_id: str) -> None:
    """Delete an integration: its push channels are stopped first (while its tokens
    still work, and before the store forgets them with it), then its provider is
    dropped and the store forgets it, its credentials and its mirror."""
    if deps.push is not None:
        await deps.push.stop_all(integration_id)
    await deps.connections.forget(integration_id)
    await deps.store.delete_integration(integration_id)
    if deps.push is not None:
        deps.push.forget_retired(integration_id)


async def begin_oauth_flow(deps: Deps, user: User, service: Service,
                           permissions: Permissions, details: dict[str, str]) -> tuple[
                               Integration, str]:
    """A pending integration (or the user's suspended one of ``service``) and the
    authorize URL that finishes it."""
    oauth = service_entry(deps, service).oauth
    if oauth is None:
        raise Unprocessable(f"service: {service.value} does not use OAuth", "invalid_field")
    if not oauth.client_id(deps.settings):
        raise Unprocessable(f"service: {service.value} is not configured on this server "
                            "(no OAuth client id).", "service_unavailable")
    auth = start_authorization(oauth, deps.settings, scopes_for(service, permissions),
                               user.email)
    store = deps.store
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


async def own_integration(deps: Deps, user: User, integration_id: str) -> Integration:
    integration = await deps.store.get_integration(integration_id)
    if integration is None or integration.user_id != user.id:
        raise NotFound("integration: no such integration", "integration_not_found")
    return integration


async def reconnect(deps: Deps, user: User, integration_id: str) -> Connected:
    """Authorize an OAuth integration again with what it asked for (capped by today's
    policy). EWS with a password needs the password again, so it goes through
    :func:`connect`."""
    integration = await own_integration(deps, user, integration_id)
    if integration.service is Service.EXCHANGE_EWS:
        raise BadRequest("password: Exchange (EWS) reconnects with its password",
                         "missing_field")
    policy = await account_policy(deps.store, user.account_id)
    wanted = integration.requested.capped_by(policy.account_permissions)
    return await connect(deps, user, ConnectRequest(
        integration.service, wanted, integration.details.get("ews_url")))


async def disconnect(deps: Deps, user: User, integration_id: str) -> None:
    """Forget the integration, its credentials and its mirrored data."""
    integration = await own_integration(deps, user, integration_id)
    await remove_integration(deps, integration.id)
    audit(deps.audit, "integration.removed", user, user, integration.id)


async def pending_for_state(deps: Deps, state: str) -> Integration:
    """The pending integration an OAuth ``state`` belongs to (single use)."""
    integration = await deps.store.integration_for_state(state) if state else None
    if integration is None or integration.status is IntegrationStatus.CONNECTED:
        raise BadRequest("state: unknown or already used; start the integration again",
                         "invalid_state")
    return integration


async def deny_authorization(deps: Deps, integration: Integration, error: str) -> None:
    await deps.store.update_integration(integration.id, status=IntegrationStatus.ERROR,
                                        reason="authorization_denied", oauth_state=None)
    raise BadRequest(f"The provider did not authorize the integration ({error[:64]}).",
                     "authorization_denied")


async def finish_oauth(deps: Deps, integration: Integration, code: str) -> Integration:
    """Trade the code for tokens, record what was granted and check the mailbox."""
    store = deps.store
    oauth = service_entry(deps, integration.service).oauth
    assert oauth is not None
    verifier = (await store.get_credentials(integration.id)).get("pkce_verifier", "")
    await store.update_integration(integration.id, oauth_state=None)  # single use
    try:
        tokens = await exchange_code(deps.http, oauth, deps.settings, code, verifier)
        granted = granted_permissions(integration.service, tokens.scope, integration.requested)
        await store.set_credentials(integration.id, tokens.as_credentials())
        integration = await store.update_integration(
            integration.id, granted=granted, scopes=tokens.scope)
        provider = await deps.connections.build(integration)
        named = await provider.check() or tokens.email
        integration = await _record_mailbox(deps, integration, named)
    except CalproxyError as exc:
        if integration.status is IntegrationStatus.PENDING:  # a re-integration keeps its
            await store.update_integration(  # suspension (and its sign-in prompt)
                integration.id, status=IntegrationStatus.ERROR, reason=exc.code)
        raise
    await _replace_older(deps, integration)
    integration = await store.update_integration(
        integration.id, status=IntegrationStatus.CONNECTED, reason=None)
    with contextlib.suppress(CalproxyError):  # listed again at the first read otherwise
        await deps.calendars.calendars(integration.user_id, refresh=True)
    owner = await store.get_user(integration.user_id) if deps.audit else None
    if owner is not None:
        audit(deps.audit, "integration.connected", owner, owner, integration.id)
    return integration


async def _record_mailbox(deps: Deps, integration: Integration,
                          named: str | None) -> Integration:
    """Note which mailbox the integration reached (``details["mailbox"]``): the public ids
    of its calendars, events and contacts derive from it, so reconnecting the same mailbox
    gives the same ids (DESIGN §5)."""
    owner = await deps.store.get_user(integration.user_id)
    host = urlsplit(integration.details.get("ews_url", "")).hostname
    mailbox = mailbox_identity(named, owner.email if owner else "", host)
    return await deps.store.update_integration(
        integration.id, details={**integration.details, "mailbox": mailbox})


async def _replace_older(deps: Deps, integration: Integration) -> None:
    for old in await deps.store.list_integrations(integration.user_id):
        if old.service is integration.service and old.id != integration.id:
            await remove_integration(deps, old.id)
