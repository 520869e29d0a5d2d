"""The home page: who is signed in, their integrations and what they may use."""

from __future__ import annotations

from aiohttp import web

from proxy.http.keys import STORE
from proxy.portal.web import portal_user, render
from proxy.portal.words import integration_view


async def home(request: web.Request) -> web.Response:
    user = portal_user(request)
    store = request.app[STORE]
    account = await store.get_account(user.account_id)
    integrations = await store.list_integrations(user.id)
    return render(request, "home.html", {
        "account_name": account.name if account else None,
        "integrations": [integration_view(i) for i in integrations],
        "notice": request.query.get("notice") and NOTICES.get(request.query["notice"]),
    })


#: messages a redirect may ask the home page to show (by key, so no text rides in URLs)
NOTICES = {
    "domain-not-allowed": "You are signed in, but you cannot connect a calendar: your "
                          "administrator allows calendar and contacts integration only for "
                          "users in certain email domains, and yours is not one of them.",
}
