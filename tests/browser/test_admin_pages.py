"""The admin's Calendar and Contacts settings and users pages in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import check_page, sign_in
from tests.browser.site import Site

SETTINGS = "/portal/admin/calendar-and-contacts"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    running = Site(tmp_path_factory.mktemp("admin"))
    yield running
    running.close()


def test_the_admin_changes_and_locks_a_setting(page: Page, site: Site,
                                               artifacts: Path) -> None:
    sign_in(page, site, "admin@acme.example")
    page.goto(site.url + SETTINGS)
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
    status, settings = site.api("admin", "GET", "/v1/account/settings")
    assert status == 200 and settings["permissions"] == {
        "value": {"calendar": "read", "contacts": "read"}, "locked": True}
    _, me = site.api("exec", "GET", "/v1/me")  # connected with calendar write: it differs
    assert [(i["status"], i["reason"]) for i in me["integrations"]] == [
        ("suspended", "policy_changed")]
    page.goto(site.url + "/portal/admin/users")
    row = page.get_by_role("row", name="exec@acme.example")
    expect(row).to_contain_text("Suspended")
    expect(row).to_contain_text("Your administrator changed the integration settings")
    check_page(page, artifacts, "admin-users")


def test_lock_without_javascript_asks_on_a_page(browser: Browser, site: Site) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, site, "admin@acme.example")
    page.goto(site.url + SETTINGS)
    page.get_by_role("group", name="EWS hosts").get_by_role("button", name="Lock").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lock “EWS hosts”?")
    expect(page.get_by_text("will be suspended and their users prompted")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    assert site.api("admin", "GET", "/v1/account/settings")[1]["ews_hosts"]["locked"] is False
    page.get_by_role("group", name="EWS hosts").get_by_role("button", name="Lock").click()
    page.get_by_role("button", name="Lock").click()
    assert site.api("admin", "GET", "/v1/account/settings")[1]["ews_hosts"]["locked"] is True
    context.close()


def test_domains_saved_normalized_and_a_bad_value_refused_inline(page: Page,
                                                                site: Site) -> None:
    sign_in(page, site, "admin@acme.example")
    page.goto(site.url + SETTINGS)
    domains = page.get_by_role("textbox", name="Only users in specific domains")
    domains.fill("ACME.example, not a domain!")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("'not a domain!' is not a valid host or domain name")).to_be_visible()
    expect(domains).to_have_value("ACME.example, not a domain!")  # kept as typed
    expect(domains).to_have_attribute("aria-invalid", "true")
    assert site.api("admin", "GET", "/v1/account/settings")[1]["allowed_domains"][
        "value"] == []
    domains.fill(" ACME.example ,@Globex.Example,")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved")
    expect(domains).to_have_value("acme.example, globex.example")
    assert site.api("admin", "GET", "/v1/account/settings")[1]["allowed_domains"][
        "value"] == ["acme.example", "globex.example"]


def test_members_get_a_403_page(page: Page, site: Site) -> None:
    sign_in(page, site, "assistant@acme.example")
    response = page.goto(site.url + SETTINGS)
    assert response is not None and response.status == 403
    expect(page.get_by_text("Only account admins may do this.")).to_be_visible()
