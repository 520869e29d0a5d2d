"""The user's Calendar and Contacts Integration page (DESIGN §9).

Connect, reconnect and disconnect call :mod:`proxy.actions.integrations`, the code behind
``POST /v1/me/integrations``: an OAuth service answers with a 303 to the provider's
authorize URL, EWS with a password connects at once. A refusal is shown next to its field;
a password is never written back into the page.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from proxy.actions import integrations as actions
from proxy.actions.policy import account_policy
from proxy.core.model import Access, Permissions, Service
from proxy.core.policy import Policy, domain_allowed
from proxy.errors import BadRequest, CalproxyError
from proxy.http.keys import deps
from proxy.portal.asking import confirmation_page, confirmed
from proxy.portal.forms import field_of, words
from proxy.portal.web import portal_user, posted_form, redirect, render, signed_in_user
from proxy.portal.words import SERVICE_LABELS, integration_view, reason_words, service_label
from proxy.store.records import Integration, IntegrationStatus, User

PATH = "/portal/integrations"
ORDER = (Service.GRAPH, Service.GOOGLE, Service.EWS_O365, Service.EXCHANGE_EWS)
LEVELS = (Access.NONE, Access.READ, Access.WRITE)
#: which field an error code belongs to, where its message does not name one
CODE_FIELDS = {"ews_host_not_allowed": "ews_url", "ews_auth_failed": "password",
               "ews_mailbox_unknown": "username", "permissions_not_allowed": "permissions"}
NOTICES = {"connected": "Connected.", "disconnected": "Disconnected.",
           "pending": "Finish connecting at the provider, then come back here."}


def _choices(policy: Policy, kind: str, chosen: str | None) -> dict[str, Any]:
    """A permission radio group limited to the account's level (fixed where locked)."""
    limit: Access = getattr(policy.account_permissions, kind)
    locked = policy.permissions.locked
    allowed = [a for a in LEVELS if limit.allows(a)] if not locked else [limit]
    value = chosen if chosen in {a.value for a in allowed} else limit.value
    return {"kind": kind, "label": kind.capitalize(), "locked": locked, "value": value,
            "options": [(a.value, a.value.capitalize()) for a in LEVELS if a in allowed]}


def _service_view(policy: Policy, service: Service, failed: dict[str, Any]) -> dict[str, Any]:
    mine = failed.get("service") == service.value
    typed = failed.get("typed", {}) if mine else {}
    return {
        "key": service.value, "label": SERVICE_LABELS[service],
        "ews": service in actions.EWS_SERVICES,
        "password": service is Service.EXCHANGE_EWS,
        "warnings": ([actions.EWS_WARNING] if service in actions.EWS_SERVICES else [])
        + ([actions.EWS_O365_WARNING] if service is Service.EWS_O365 else []),
        "permissions": [_choices(policy, k, typed.get(k)) for k in ("calendar", "contacts")],
        "ews_url": typed.get("ews_url", "" if service is Service.EXCHANGE_EWS
                             else actions.O365_EWS_URL),
        "username": typed.get("username", ""),
        "errors": failed.get("errors", {}) if mine else {},
    }


async def _page(request: web.Request, user: User, failed: dict[str, Any] | None = None,
                status: int = 200) -> web.Response:
    app_deps = deps(request.app)
    policy = await account_policy(app_deps.store, user.account_id)
    integrations = await app_deps.store.list_integrations(user.id)
    failed = failed or {}
    blocked = None
    if not policy.is_enabled:
        blocked = "Your administrator has turned calendar and contacts integration off."
    elif not domain_allowed(policy, user.email):
        blocked = ("Your administrator allows calendar and contacts integration only for "
                   "users in certain email domains, and yours is not one of them.")
    return render(request, "integrations.html", {
        "integrations": [{**integration_view(i),
                          "reconnect": i.status in {IntegrationStatus.SUSPENDED,
                                                    IntegrationStatus.ERROR},
                          "password": i.service is Service.EXCHANGE_EWS,
                          "granted": _granted_words(i.granted)} for i in integrations],
        "blocked": blocked,
        "services": [_service_view(policy, s, failed) for s in ORDER
                     if s in policy.allowed_services],
        "mapi": Service.EXCHANGE_MAPI in policy.allowed_services,
        "problem": failed.get("problem"),
        "notice": NOTICES.get(request.query.get("done", "")),
    }, status=status)


def _granted_words(granted: Permissions) -> str:
    return f"Calendar: {granted.calendar.value}; contacts: {granted.contacts.value}"


async def integrations_page(request: web.Request) -> web.Response:
    return await _page(request, portal_user(request))


def _wanted(form: MultiDictProxy[str]) -> actions.ConnectRequest:
    try:
        service = Service(form.get("service", ""))
    except ValueError:
        raise BadRequest("service: choose one of the services listed") from None
    permissions = None
    if "calendar" in form or "contacts" in form:
        try:
            permissions = Permissions(Access(form.get("calendar", "none")),
                                      Access(form.get("contacts", "none")))
        except ValueError:
            raise BadRequest("permissions: each permission is None, Read or Write") from None
    return actions.ConnectRequest(service, permissions, form.get("ews_url") or None,
                                  form.get("username") or None, form.get("password") or None)


async def connect(request: web.Request) -> web.Response:
    user = portal_user(request)
    form = posted_form(request)
    typed = {k: form.get(k, "") for k in ("ews_url", "username", "calendar", "contacts")}
    try:
        wanted = _wanted(form)
        done = await actions.connect(deps(request.app), user, wanted)
    except CalproxyError as exc:
        return await _refused(request, user, form.get("service", ""), typed, exc)
    if done.authorize_url is not None:
        return redirect(done.authorize_url)
    return redirect(f"{PATH}?done=connected")


async def _refused(request: web.Request, user: User, service: str, typed: dict[str, str],
                   exc: CalproxyError) -> web.Response:
    """The page again, the refusal next to its field, what was typed kept (no password)."""
    field = CODE_FIELDS.get(exc.code) or field_of(exc)
    shown = {"ews_url", "username", "password", "permissions"}
    failed: dict[str, Any] = {"service": service, "typed": typed, "errors": {}}
    if field in shown:
        failed["errors"][field] = words(exc)
    else:
        failed["problem"] = f"{service_label(service)}: {words(exc)}"
    return await _page(request, user, failed, status=exc.status)


async def reconnect(request: web.Request) -> web.Response:
    user = portal_user(request)
    done = await actions.reconnect(deps(request.app), user, request.match_info["id"])
    if done.authorize_url is not None:
        return redirect(done.authorize_url)
    return redirect(f"{PATH}?done=connected")


async def disconnect(request: web.Request) -> web.Response:
    user = portal_user(request)
    app_deps = deps(request.app)
    integration = await actions.own_integration(app_deps, user, request.match_info["id"])
    if not confirmed(posted_form(request)):
        return confirmation_page(
            request, title=f"Disconnect {service_label(integration.service)}?",
            paragraphs=["calproxy forgets its access and the calendar and contacts it "
                        "mirrored. You can connect again later."],
            action=request.path, fields={}, confirm_label="Disconnect", cancel_href=PATH)
    await actions.disconnect(app_deps, user, integration.id)
    return redirect(f"{PATH}?done=disconnected")


async def callback_landing(request: web.Request, integration: Integration | None,
                           refused: CalproxyError | None) -> web.StreamResponse | None:
    """After the provider sends the browser back: the page of the signed-in user who
    started it (connected, or the refusal in words); ``None`` for anyone else (the API's
    JSON answer)."""
    user = signed_in_user(request)
    if user is None or (integration is not None and integration.user_id != user.id):
        return None
    if refused is None:
        return redirect(f"{PATH}?done=connected")
    problem = reason_words(refused.code) or words(refused)
    return await _page(request, user, {"problem": problem}, status=refused.status)
