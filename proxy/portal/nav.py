"""The portal's navigation: the pages a user may use, in the order the nav shows them.

Admin-only pages are listed for admins only; the pages themselves still check (a 403 page
for others), so the nav is a convenience, never the access rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.store.records import User


@dataclass(frozen=True, slots=True)
class NavItem:
    href: str
    label: str
    admin_only: bool = False


NAV: tuple[NavItem, ...] = (
    NavItem("/portal/", "Home"),
    NavItem("/portal/integrations", "Integrations"),
    NavItem("/portal/calendar/me", "My calendar"),
    NavItem("/portal/delegates", "Scheduling privilege"),
    NavItem("/portal/feeds", "Calendar feeds"),
    NavItem("/portal/audit", "Who saw my calendar"),
    NavItem("/portal/admin/calendar-and-contacts", "Calendar and Contacts", admin_only=True),
    NavItem("/portal/admin/users", "Users", admin_only=True),
)


def nav_for(user: User | None, path: str) -> list[dict[str, object]]:
    """The nav entries for ``user`` with the current page marked (``aria-current``)."""
    if user is None:
        return []
    return [{"href": item.href, "label": item.label, "current": _is_current(item.href, path)}
            for item in NAV if user.is_admin or not item.admin_only]


def _is_current(href: str, path: str) -> bool:
    if href == "/portal/":
        return path in {"/portal", "/portal/"}
    return path == href or path.startswith(href.rstrip("/") + "/")
