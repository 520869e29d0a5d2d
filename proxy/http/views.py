"""JSON shapes of users, integrations, delegations and feeds (no secrets, ever)."""

from __future__ import annotations

from typing import Any

from proxy.store.records import CalendarRecord, Delegation, Feed, Integration, User


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "role": user.role.value,
            "account_id": user.account_id}


def integration_json(integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.id,
        "service": integration.service.value,
        "status": integration.status.value,
        "reason": integration.reason,
        "permissions": {"calendar": integration.granted.calendar.value,
                        "contacts": integration.granted.contacts.value},
        "requested": {"calendar": integration.requested.calendar.value,
                      "contacts": integration.requested.contacts.value},
        "scopes": integration.scopes.split() if integration.scopes else [],
        "ews_url": integration.details.get("ews_url"),
        "created": integration.created.isoformat(),
    }


def delegation_json(delegation: Delegation, other: User) -> dict[str, Any]:
    return {"email": other.email, "user_id": other.id,
            "can_schedule": delegation.can_schedule,
            "can_view_private": delegation.can_view_private}


def calendar_json(calendar: CalendarRecord, service: str) -> dict[str, Any]:
    return {"id": calendar.id, "name": calendar.name, "service": service,
            "primary": calendar.is_primary, "synced": calendar.synced,
            "can_write": calendar.can_write,
            "synced_at": calendar.synced_at.isoformat() if calendar.synced_at else None}


def feed_json(feed: Feed, url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": feed.id, "detail": feed.detail, "include_private": feed.include_private,
        "past_days": feed.past_days, "future_days": feed.future_days,
        "created": feed.created.isoformat()}
    if url is not None:
        body["url"] = url
    return body
