"""The routes of the portal's working pages (DESIGN §9 "Pages"), added to
:data:`proxy.portal.routes.ROUTES`. Every POST is a form checked against forgery, answered
with a 303 (POST-redirect-GET) or, when refused, with the page and the refusal in words."""

from __future__ import annotations

from proxy.portal import admin, audit, calendar, delegates, feeds, integrations

PAGE_ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/portal/admin/calendar-and-contacts", admin.settings_page),
    ("POST", "/portal/admin/calendar-and-contacts", admin.save_settings),
    ("POST", "/portal/admin/calendar-and-contacts/lock", admin.lock_setting),
    ("GET", "/portal/admin/users", admin.users_page),
    ("GET", "/portal/integrations", integrations.integrations_page),
    ("POST", "/portal/integrations/connect", integrations.connect),
    ("POST", "/portal/integrations/{id}/reconnect", integrations.reconnect),
    ("POST", "/portal/integrations/{id}/disconnect", integrations.disconnect),
    ("GET", "/portal/delegates", delegates.delegates_page),
    ("POST", "/portal/delegates", delegates.add_delegate),
    ("POST", "/portal/delegates/remove", delegates.remove_delegate),
    ("GET", "/portal/calendar/{user}", calendar.week_page),
    ("GET", "/portal/calendar/{user}/changes", calendar.week_changes),
    ("POST", "/portal/calendar/{user}/events", calendar.schedule),
    ("GET", "/portal/calendar/{user}/events/{id}/edit", calendar.edit_page),
    ("POST", "/portal/calendar/{user}/events/{id}/edit", calendar.save_edit),
    ("POST", "/portal/calendar/{user}/events/{id}/delete", calendar.delete),
    ("GET", "/portal/feeds", feeds.feeds_page),
    ("POST", "/portal/feeds", feeds.create_feed),
    ("POST", "/portal/feeds/{id}/revoke", feeds.revoke_feed),
    ("GET", "/portal/audit", audit.audit_page),
]
