"""Scheduling privilege (DESIGN §9): who may schedule for me, and whose calendars I may
schedule for. Assigning and removing call :mod:`proxy.actions.delegates`, the code behind
``PUT`` and ``DELETE /v1/me/delegates/{email}``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from proxy.actions import delegates as actions
from proxy.errors import CalproxyError
from proxy.http.keys import deps
from proxy.portal.asking import confirmation_page, confirmed
from proxy.portal.forms import words
from proxy.portal.web import portal_user, posted_form, redirect, render
from proxy.store.records import User

PATH = "/portal/delegates"
NOTICES = {"added": "Scheduling privilege saved.", "removed": "Scheduling privilege removed."}


async def _page(request: web.Request, user: User, typed: dict[str, Any] | None = None,
                error: str | None = None, status: int = 200) -> web.Response:
    app_deps = deps(request.app)
    return render(request, "delegates.html", {
        "delegates": [{"email": other.email, "can_schedule": d.can_schedule,
                       "can_view_private": d.can_view_private}
                      for d, other in await actions.delegates(app_deps, user)],
        "delegators": [{"email": other.email, "can_schedule": d.can_schedule}
                       for d, other in await actions.delegators(app_deps, user)],
        "typed": typed or {"email": "", "can_schedule": True, "can_view_private": False},
        "error": error, "notice": NOTICES.get(request.query.get("done", "")),
    }, status=status)


async def delegates_page(request: web.Request) -> web.Response:
    return await _page(request, portal_user(request))


async def add_delegate(request: web.Request) -> web.Response:
    user = portal_user(request)
    form = posted_form(request)
    email = form.get("email", "").strip()
    can_schedule = form.get("can_schedule") == "on"
    can_view_private = form.get("can_view_private") == "on"
    typed = {"email": email, "can_schedule": can_schedule, "can_view_private": can_view_private}
    if not email:
        return await _page(request, user, typed, "Enter the email of a user of your account.",
                           status=400)
    try:
        await actions.assign(deps(request.app), user, email, can_schedule, can_view_private)
    except CalproxyError as exc:
        return await _page(request, user, typed, words(exc), status=exc.status)
    return redirect(f"{PATH}?done=added")


async def remove_delegate(request: web.Request) -> web.Response:
    user = portal_user(request)
    form = posted_form(request)
    email = form.get("email", "")
    if not confirmed(form):
        other = await actions.colleague(deps(request.app), user, email)
        return confirmation_page(
            request, title=f"Remove {other.email}'s scheduling privilege?",
            paragraphs=[f"{other.email} will no longer see or schedule on your calendar."],
            action=PATH + "/remove", fields={"email": other.email}, confirm_label="Remove",
            cancel_href=PATH)
    await actions.remove(deps(request.app), user, email)
    return redirect(f"{PATH}?done=removed")
