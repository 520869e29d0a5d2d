"""Calendar feeds (DESIGN §9): make a secret ICS URL, see it once, list and revoke feeds.
Making and revoking call :mod:`proxy.actions.feeds`, the code behind ``/v1/me/feeds``."""

from __future__ import annotations

from aiohttp import web

from proxy.actions import feeds as actions
from proxy.errors import CalproxyError
from proxy.http.keys import deps
from proxy.portal.asking import confirmation_page, confirmed
from proxy.portal.forms import words
from proxy.portal.once import show_once, take_once
from proxy.portal.web import portal_user, posted_form, redirect, render
from proxy.store.records import User

PATH = "/portal/feeds"
DETAIL_WORDS = {"busy": "Busy", "limited": "Limited", "full": "Full"}
DETAIL_HELP = {
    "busy": "Times only, as Busy, Tentative or Out of office.",
    "limited": "Titles and locations of events that are not private; private ones as busy.",
    "full": "Everything of events that are not private; private ones as busy unless you "
            "include them.",
}
NOTICES = {"revoked": "Feed revoked: its URL no longer works."}


async def _page(request: web.Request, user: User, new_url: str | None = None,
                error: str | None = None, typed: dict[str, object] | None = None,
                status: int = 200) -> web.Response:
    feeds = await actions.live_feeds(deps(request.app), user)
    return render(request, "feeds.html", {
        "feeds": [{"id": f.id, "detail": DETAIL_WORDS.get(f.detail, f.detail),
                   "include_private": f.include_private,
                   "created": f.created.strftime("%Y-%m-%d %H:%M UTC")} for f in feeds],
        "details": [(k, DETAIL_WORDS[k], DETAIL_HELP[k]) for k in actions.DETAIL_NAMES],
        "typed": typed or {"detail": "busy", "include_private": False},
        "new_url": new_url, "error": error,
        "notice": NOTICES.get(request.query.get("done", "")),
    }, status=status)


async def feeds_page(request: web.Request) -> web.Response:
    user = portal_user(request)
    holder = web.Response()
    new_url = take_once(request, holder, PATH)
    response = await _page(request, user, new_url)
    for cookie in holder.cookies.values():  # the deletion of the one-time cookie
        response.cookies[cookie.key] = cookie
    return response


async def create_feed(request: web.Request) -> web.Response:
    user = portal_user(request)
    form = posted_form(request)
    typed: dict[str, object] = {"detail": form.get("detail", ""),
                                "include_private": form.get("include_private") == "on"}
    try:
        _, url = await actions.create_feed(deps(request.app), user, str(typed["detail"]),
                                           bool(typed["include_private"]))
    except CalproxyError as exc:
        return await _page(request, user, None, words(exc), typed, status=exc.status)
    response = redirect(PATH)
    show_once(request, response, PATH, url)
    return response


async def revoke_feed(request: web.Request) -> web.Response:
    user = portal_user(request)
    feed_id = request.match_info["id"]
    if not confirmed(posted_form(request)):
        return confirmation_page(
            request, title="Revoke this feed?",
            paragraphs=["Calendars subscribed to its URL stop updating. This cannot be "
                        "undone; you can make a new feed."],
            action=request.path, fields={}, confirm_label="Revoke", cancel_href=PATH)
    await actions.revoke_feed(deps(request.app), user, feed_id)
    return redirect(f"{PATH}?done=revoked")
