"""The admin's Calendar and Contacts settings and users pages in a real browser.

Locking suspends integrations, so this module has a calproxy (and emulators) of its own:
the other browser tests keep the cast as the demo seeds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import check_page, sign_in_as
from tests.browser.served import Served

SETTINGS = "/portal/admin/calendar-and-contacts"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = Served(tmp_path_factory.mktemp("admin-served"))
    try:
        yield server
    finally:
        server.close()


def _settings(own: Served) -> dict[str, dict[str, object]]:
    status, body = own.api("admin", "GET", "/v1/account/settings")
    assert status == 200
    return dict(body)


def test_the_admin_changes_and_locks_a_setting(page: Page, own: Served,
                                               artifacts: Path) -> None:
    sign_in_as(page, own, "admin")
    page.goto(own.url + SETTINGS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar and Contacts")
    check_page(page, artifacts, "admin-calendar-and-contacts")
    permissions = page.get_by_role("group", name="Permissions", exact=True)
    permissions.get_by_role("group", name="Calendar").get_by_label("Read").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved")
    permissions.get_by_role("button", name="Lock").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Integrations that differ will be suspended")
    dialog.get_by_role("button", name="Lock").click()
    expect(permissions).to_contain_text("Locked: users cannot change this.")
    expect(permissions.get_by_role("button", name="Unlock")).to_be_visible()
    assert _settings(own)["permissions"] == {
        "value": {"calendar": "read", "contacts": "read"}, "locked": True}
    _, me = own.api("exec", "GET", "/v1/me")  # connected with calendar write: it differs
    assert [(i["status"], i["reason"]) for i in me["integrations"]] == [
        ("suspended", "policy_changed")]
    assert own.api("exec", "GET", "/v1/users/me/freebusy?start=2026-01-01T00:00:00Z"
                   "&end=2026-01-02T00:00:00Z")[0] == 409  # it serves no data
    page.goto(own.url + "/portal/admin/users")
    row = page.get_by_role("row", name="exec@acme.example")
    expect(row).to_contain_text("Suspended")
    expect(row).to_contain_text("Your administrator changed the integration settings")
    check_page(page, artifacts, "admin-users")


def test_lock_without_javascript_asks_on_a_page(browser: Browser, own: Served,
                                                artifacts: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_as(page, own, "admin")
    page.goto(own.url + SETTINGS)
    page.get_by_role("group", name="EWS hosts").get_by_role("button", name="Lock").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lock “EWS hosts”?")
    expect(page.get_by_text("will be suspended and their users prompted")).to_be_visible()
    page.screenshot(path=str(artifacts / "admin-lock-confirmation.png"))  # axe needs JS
    page.get_by_role("link", name="Cancel").click()
    assert _settings(own)["ews_hosts"]["locked"] is False
    page.get_by_role("group", name="EWS hosts").get_by_role("button", name="Lock").click()
    page.get_by_role("button", name="Lock").click()
    expect(page.get_by_role("group", name="EWS hosts")).to_contain_text("Locked")
    assert _settings(own)["ews_hosts"]["locked"] is True
    context.close()


def test_domains_saved_normalized_and_a_bad_value_refused_inline(page: Page,
                                                                own: Served) -> None:
    sign_in_as(page, own, "admin")
    page.goto(own.url + SETTINGS)
    domains = page.get_by_role("textbox", name="Only users in specific domains")
    domains.fill("ACME.example, not a domain!")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("'not a domain!' is not a valid host or domain name")
           ).to_be_visible()
    expect(domains).to_have_value("ACME.example, not a domain!")  # kept as typed
    expect(domains).to_have_attribute("aria-invalid", "true")
    assert _settings(own)["allowed_domains"]["value"] == []  # nothing saved
    domains.fill(" ACME.example ,@Globex.Example,")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved")
    expect(domains).to_have_value("acme.example, globex.example")
    assert _settings(own)["allowed_domains"]["value"] == ["acme.example", "globex.example"]


def test_members_get_a_403_page(page: Page, own: Served) -> None:
    sign_in_as(page, own, "assistant")
    response = page.goto(own.url + SETTINGS)
    assert response is not None and response.status == 403
    expect(page.get_by_text("Only account admins may do this.")).to_be_visible()
