"""Where a browser goes right after signing in: rule 5, as the API's sign-in applies it.

The portal counts as a client of the newest version (it always gets prompts, like a
client at ``CALPROXY_MIN_PROMPT_CLIENT_VERSION`` or later). Where the policy prompts an
OAuth service's user, the browser goes straight to the provider's authorize URL (the
seed: "users will be redirected to Office 365"); a user whose domain is not allowed is
told why on the home page; everyone else lands on the home page.
"""

from __future__ import annotations

from aiohttp import web

from proxy.actions.sign_in import record_sign_in
from proxy.core.policy import Reason
from proxy.http.keys import SETTINGS, deps
from proxy.portal.sessions import sign_in
from proxy.portal.web import redirect
from proxy.store.records import User


async def land(request: web.Request, user: User) -> web.Response:
    """Sign ``user`` in (a new session), record the sign-in, and say where to go next."""
    await sign_in(request, user)
    newest = request.app[SETTINGS].min_prompt_client_version  # prompts apply from here on
    prompt = await record_sign_in(deps(request.app), user, newest)
    decision = prompt.decision if prompt else None
    url = prompt.authorize_url if prompt else None
    if decision is not None and url is not None:
        return redirect(url)
    if decision is not None and decision.reason is Reason.DOMAIN_NOT_ALLOWED:
        return redirect("/portal/?notice=domain-not-allowed")
    if decision is not None:  # prompted, but the service is not configured here
        return redirect("/portal/integrations")
    return redirect("/portal/")
