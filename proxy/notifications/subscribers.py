"""Which viewer a subscriber is of an owner's calendar, decided now (rights are evaluated
at delivery and at every stream event, never remembered from when a webhook was made)."""

from __future__ import annotations

from proxy.core.access import Grant, Party, relation
from proxy.core.model import Access
from proxy.core.policy import load_policy
from proxy.errors import NotFound
from proxy.notifications.views import Viewer, viewer_for
from proxy.store.interface import Store


async def current_viewer(store: Store, subscriber_id: str, owner_id: str) -> Viewer | None:
    """The subscriber's viewer class, or ``None`` when it may see nothing of the owner
    (gone, outside the account, or the account's policy serves no calendar data)."""
    subscriber = await store.get_user(subscriber_id)
    owner = await store.get_user(owner_id)
    if subscriber is None or owner is None:
        return None
    delegation = await store.get_delegation(owner.id, subscriber.id)
    grant = None if delegation is None else Grant(delegation.can_schedule,
                                                  delegation.can_view_private)
    rel = relation(Party(subscriber.id, subscriber.account_id),
                   Party(owner.id, owner.account_id), grant)
    account = await store.get_account(owner.account_id)
    if account is None or load_policy(account.settings).account_permissions.calendar \
            is Access.NONE:
        return None
    try:
        return viewer_for(rel, grant)
    except NotFound:
        return None
