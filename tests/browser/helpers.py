"""What browser tests do again and again: sign in as someone, look for strings that must
not be there, run axe, keep a screenshot."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.served import Served

_AXE = Axe()


def sign_in_as(page: Page, served: Served, who: str) -> None:
    """Through a one-time login link: its page shows "Continue", the POST signs in."""
    page.context.clear_cookies()
    page.goto(served.login_link(who))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{served.url}/portal/**")


def markers_in(page: Page, markers: list[str]) -> list[str]:
    """Which of ``markers`` appear anywhere in the page's HTML (text, attributes,
    scripts, titles, comments): a privacy scan must find none."""
    html = page.content()
    return [marker for marker in markers if marker in html]


def serious_violations(page: Page) -> list[str]:
    """axe's serious and critical findings on the page as it is now."""
    found = _AXE.run(page).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in found
            if v.get("impact") in {"serious", "critical"}]


def screenshot(page: Page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def check_page(page: Page, artifacts: Path, name: str) -> None:
    """No serious accessibility violation, and a screenshot kept as a test artifact."""
    assert serious_violations(page) == [], name
    screenshot(page, artifacts, name)
