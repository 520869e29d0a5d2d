"""The owner's audit trail in the portal (DESIGN §12): who saw or tried to change their
calendar, and when. It reads what ``/v1/me/audit`` answers
(:func:`proxy.operations.audit_http.read_trail`), newest first, in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from proxy.http.keys import SETTINGS
from proxy.operations.audit_http import read_trail
from proxy.portal.web import portal_user, render

WORDS = {
    "event.read_private": "saw a private event in full",
    "event.read_refused": "was refused a read of your calendar",
    "event.write_refused": "was refused a change to your calendar",
    "event.created": "created an event",
    "event.updated": "changed an event",
    "event.deleted": "deleted an event",
    "integration.connected": "connected an integration",
    "integration.removed": "removed an integration",
    "feed.created": "created a calendar feed",
    "feed.revoked": "revoked a calendar feed",
    "webhook.created": "subscribed a webhook to your calendar",
    "webhook.removed": "removed a webhook from your calendar",
    "portal.sign_in": "signed in to the portal",
}


async def audit_page(request: web.Request) -> web.Response:
    user = portal_user(request)
    since = datetime.now(UTC) - timedelta(days=request.app[SETTINGS].audit_days)
    records = await read_trail(request.app, since, owner_id=user.id)
    return render(request, "audit.html", {
        "days": request.app[SETTINGS].audit_days,
        "records": [{"at": r.at.strftime("%Y-%m-%d %H:%M UTC"),
                     "actor": "You" if r.actor_id == user.id else r.actor,
                     "what": WORDS.get(r.action, r.action), "target": r.target or "",
                     "refused": r.result == "refused"} for r in reversed(records)],
    })
