"""Secret ICS feeds of one's own calendar (DESIGN §5): made, listed, revoked."""

from __future__ import annotations

from proxy.actions.deps import Deps
from proxy.errors import BadRequest, NotFound
from proxy.operations.audit import audit
from proxy.store.records import Feed, User

DETAIL_NAMES = ("busy", "limited", "full")


async def create_feed(deps: Deps, owner: User, detail: str, include_private: bool,
                      past_days: int = 30, future_days: int = 365) -> tuple[Feed, str]:
    """A new feed and its URL (shown once: only the secret's hash is stored)."""
    if detail not in DETAIL_NAMES:
        raise BadRequest(f"detail: expected one of {', '.join(DETAIL_NAMES)}",
                         "invalid_field")
    if include_private and detail != "full":
        raise BadRequest("include_private: only meaningful with detail full", "invalid_field")
    feed, secret = await deps.store.create_feed(owner.id, detail, include_private,
                                                past_days, future_days)
    audit(deps.audit, "feed.created", owner, owner, feed.id)
    return feed, f"{deps.settings.base_url}/feeds/{secret}.ics"


async def live_feeds(deps: Deps, owner: User) -> list[Feed]:
    return [f for f in await deps.store.list_feeds(owner.id) if not f.revoked]


async def revoke_feed(deps: Deps, owner: User, feed_id: str) -> None:
    if not await deps.store.revoke_feed(owner.id, feed_id):
        raise NotFound("feed: no such feed", "feed_not_found")
    audit(deps.audit, "feed.revoked", owner, owner, feed_id)
