"""Account settings: reading the policy, and an admin changing it (DESIGN §2)."""

from __future__ import annotations

from typing import Any

from proxy.actions.deps import Deps
from proxy.actions.target import account_policy as account_policy
from proxy.core.policy import (
    IntegrationFacts,
    Policy,
    Reason,
    apply_patch,
    stored_form,
    suspension_reason,
)
from proxy.errors import Forbidden
from proxy.operations.audit import audit
from proxy.store.records import Integration, IntegrationStatus, User

#: suspensions that lift by themselves once the policy allows the integration again
_SELF_LIFTING = {Reason.INTEGRATION_DISABLED.value, Reason.DOMAIN_NOT_ALLOWED.value}


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only account admins may do this.", "admin_only")


def facts(integration: Integration, owner: User) -> IntegrationFacts:
    """What the suspension and prompt rules need to know of one integration."""
    suspended = integration.status is IntegrationStatus.SUSPENDED
    return IntegrationFacts(integration.service, integration.requested, owner.email,
                            integration.reason if suspended else None)


async def update_settings(deps: Deps, admin: User, patch: Any) -> Policy:
    """Apply ``patch`` (``{setting: {"value"?, "locked"?}}``) as ``admin``: validated
    whole before anything is saved, then the integrations it affects are suspended or
    restored (rules 2-4)."""
    require_admin(admin)
    policy = apply_patch(await account_policy(deps.store, admin.account_id), patch)
    await deps.store.save_account_settings(admin.account_id, stored_form(policy))
    await enforce(deps, admin.account_id)
    for name in patch if isinstance(patch, dict) else ():
        audit(deps.audit, "policy.updated", admin, None, str(name))
    return policy


async def enforce(deps: Deps, account_id: str) -> None:
    """Suspend what the new policy forbids; lift suspensions it no longer needs."""
    store = deps.store
    policy = await account_policy(store, account_id)
    owners = {u.id: u for u in await store.list_users(account_id)}
    for integration in await store.list_account_integrations(account_id):
        reason = suspension_reason(policy, facts(integration, owners[integration.user_id]))
        if reason is not None and integration.status is not IntegrationStatus.PENDING:
            if (integration.status, integration.reason) != (IntegrationStatus.SUSPENDED, reason):
                await store.update_integration(integration.id,
                                               status=IntegrationStatus.SUSPENDED, reason=reason)
                await deps.connections.forget(integration.id)
        elif (reason is None and integration.status is IntegrationStatus.SUSPENDED
              and integration.reason in _SELF_LIFTING):
            await store.update_integration(integration.id, status=IntegrationStatus.CONNECTED,
                                           reason=None)


async def account_users(deps: Deps, admin: User) -> list[tuple[User, list[Integration]]]:
    """Every user of the admin's account with their integrations."""
    require_admin(admin)
    users = await deps.store.list_users(admin.account_id)
    return [(member, await deps.store.list_integrations(member.id)) for member in users]
