"""The sign-in prompt (DESIGN §2 rule 5), for API clients and the portal alike."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from proxy.actions.deps import Deps
from proxy.actions.integrations import O365_EWS_URL, begin_oauth_flow
from proxy.actions.policy import account_policy, facts
from proxy.core.model import Service
from proxy.core.policy import PromptDecision, sign_in_prompt
from proxy.errors import Unprocessable
from proxy.store.records import IntegrationStatus, User


@dataclass(frozen=True, slots=True)
class Prompt:
    decision: PromptDecision
    #: where to send the user; ``None`` when they are only told (or the service has no
    #: OAuth client configured here)
    authorize_url: str | None


async def record_sign_in(deps: Deps, user: User, client_version: str) -> Prompt | None:
    """Count a sign-in of ``user`` and decide whether (and where) to prompt them."""
    store = deps.store
    policy = await account_policy(store, user.account_id)
    integrations = await store.list_integrations(user.id)
    before = await store.record_sign_in(user.id)
    connected = any(i.status is IntegrationStatus.CONNECTED for i in integrations)
    decision = sign_in_prompt(policy, user.email, [facts(i, user) for i in integrations],
                              connected, before, client_version,
                              deps.settings.min_prompt_client_version)
    if decision is None:
        return None
    url = None
    if decision.authorize:
        details = {"ews_url": O365_EWS_URL} if decision.service is Service.EWS_O365 else {}
        with contextlib.suppress(Unprocessable):  # not configured here: tell, do not send
            _, url = await begin_oauth_flow(deps, user, decision.service,
                                            policy.account_permissions, details)
    return Prompt(decision, url)
