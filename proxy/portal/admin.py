"""Admin pages: the account's Calendar and Contacts settings, and its users (DESIGN §9).

Saving and locking call :func:`proxy.actions.policy.update_settings`, the function behind
``PATCH /v1/account/settings``: the same validation, the same suspensions. Each setting is
validated on its own first (with the same ``apply_patch``) so that every bad value can be
shown next to its field while nothing is saved.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from proxy.actions.policy import account_policy, account_users, require_admin, update_settings
from proxy.core.model import Permissions
from proxy.core.policy import ALL_SERVICES, Policy, apply_patch
from proxy.errors import BadRequest
from proxy.http.keys import deps
from proxy.portal.asking import confirmation_page, confirmed
from proxy.portal.forms import words
from proxy.portal.web import portal_user, posted_form, redirect, render
from proxy.portal.words import SERVICE_LABELS, integration_view

PATH = "/portal/admin/calendar-and-contacts"
LEGENDS = {
    "enabled": "Calendar and contacts integration",
    "services": "Services",
    "permissions": "Permissions",
    "prompt_o365_on_sign_in": "Ask users to integrate Office 365 calendar when they sign in",
    "allowed_domains": "Only users in specific domains can integrate calendar and contacts "
                       "services",
    "ews_hosts": "EWS hosts",
}
PROMPT_CHOICES = (("off", "Off"), ("first_sign_in", "Ask users the first time they sign in"),
                  ("every_sign_in", "Ask users every time they sign in until they integrate"))
ACCESS_CHOICES = (("none", "None"), ("read", "Read"), ("write", "Write"))


def _shown(policy: Policy) -> dict[str, Any]:
    """The policy as the form shows it."""
    permissions: Permissions = policy.account_permissions
    return {"enabled": policy.is_enabled,
            "services": {s.value for s in policy.allowed_services},
            "calendar": permissions.calendar.value, "contacts": permissions.contacts.value,
            "prompt_o365_on_sign_in": policy.prompt_o365_on_sign_in.value.value,
            "allowed_domains": ", ".join(policy.allowed_domains.value),
            "ews_hosts": ", ".join(policy.ews_hosts.value)}


def _typed(form: MultiDictProxy[str]) -> dict[str, Any]:
    """What the admin typed, kept as typed (shown back when something is refused)."""
    return {"enabled": form.get("enabled") == "on",
            "services": set(form.getall("services", [])),
            "calendar": form.get("calendar", ""), "contacts": form.get("contacts", ""),
            "prompt_o365_on_sign_in": form.get("prompt_o365_on_sign_in", ""),
            "allowed_domains": form.get("allowed_domains", ""),
            "ews_hosts": form.get("ews_hosts", "")}


def _patch(typed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The values as a settings patch, the shape ``PATCH /v1/account/settings`` takes."""
    return {
        "enabled": {"value": typed["enabled"]},
        "services": {"value": [s for s in typed["services"]]},
        "permissions": {"value": {"calendar": typed["calendar"],
                                  "contacts": typed["contacts"]}},
        "prompt_o365_on_sign_in": {"value": typed["prompt_o365_on_sign_in"]},
        "allowed_domains": {"value": typed["allowed_domains"]},
        "ews_hosts": {"value": typed["ews_hosts"]},
    }


def _page(request: web.Request, policy: Policy, values: dict[str, Any],
          errors: dict[str, str], notice: str | None, status: int = 200) -> web.Response:
    return render(request, "admin_settings.html", {
        "values": values, "errors": errors, "notice": notice, "legends": LEGENDS,
        "locked": {name: getattr(policy, name).locked for name in policy.names},
        "services": [(s.value, SERVICE_LABELS[s]) for s in ALL_SERVICES],
        "prompt_choices": PROMPT_CHOICES, "access_choices": ACCESS_CHOICES,
        "action": PATH}, status=status)


NOTICES = {"saved": "Saved", "locked": "Locked: users now get the account's value.",
           "unlocked": "Unlocked: users may choose within the account's value."}


async def settings_page(request: web.Request) -> web.Response:
    user = portal_user(request)
    require_admin(user)
    policy = await account_policy(deps(request.app).store, user.account_id)
    notice = NOTICES.get(request.query.get("done", ""))
    return _page(request, policy, _shown(policy), {}, notice)


async def save_settings(request: web.Request) -> web.Response:
    user = portal_user(request)
    require_admin(user)
    app_deps = deps(request.app)
    policy = await account_policy(app_deps.store, user.account_id)
    typed = _typed(posted_form(request))
    patch = _patch(typed)
    errors = {}
    for name, entry in patch.items():
        try:
            apply_patch(policy, {name: entry})
        except BadRequest as exc:
            errors[name] = words(exc)
    if errors:
        return _page(request, policy, typed, errors, None, status=400)
    await update_settings(app_deps, user, patch)
    return redirect(f"{PATH}?done=saved")


async def lock_setting(request: web.Request) -> web.Response:
    """Lock (after confirming) or unlock one setting at its saved value."""
    user = portal_user(request)
    require_admin(user)
    form = posted_form(request)
    name, lock = form.get("setting", ""), form.get("lock") == "true"
    if name not in LEGENDS:
        raise BadRequest("That is not one of the account's settings.")
    if lock and not confirmed(form):
        return confirmation_page(
            request, title=f"Lock “{LEGENDS[name]}”?",
            paragraphs=["Every user will be held to the account's value of this setting.",
                        "Integrations that differ will be suspended and their users "
                        "prompted to connect again. Nothing is deleted."],
            action=f"{PATH}/lock", fields={"setting": name, "lock": "true"},
            confirm_label="Lock", cancel_href=PATH)
    await update_settings(deps(request.app), user, {name: {"locked": lock}})
    return redirect(f"{PATH}?done={'locked' if lock else 'unlocked'}#{name}")


async def users_page(request: web.Request) -> web.Response:
    user = portal_user(request)
    listed = await account_users(deps(request.app), user)
    return render(request, "admin_users.html", {"members": [
        {"email": member.email, "role": "Administrator" if member.is_admin else "Member",
         "integrations": [integration_view(i) for i in integrations]}
        for member, integrations in listed]})
