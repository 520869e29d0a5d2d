"""What the browser tests do on every page: sign in, scan with axe, keep a screenshot,
and record every response a page loaded (for the privacy scans)."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Response

from tests.browser.site import Site

_AXE = Axe()


def sign_in(page: Page, site: Site, email: str) -> None:
    """Through a one-time login link: its page shows "Continue", the POST signs in."""
    page.context.clear_cookies()
    page.goto(site.login_link(email))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{site.url}/portal/**")


def serious_violations(page: Page) -> list[str]:
    """axe's serious and critical findings on the page as it is now."""
    found = _AXE.run(page).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in found
            if v.get("impact") in {"serious", "critical"}]


def check_page(page: Page, artifacts: Path, name: str) -> None:
    """No serious accessibility violation, and a screenshot kept as a test artifact."""
    assert serious_violations(page) == [], name
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


class Recorder:
    """Every response the page loads (HTML, CSS, JS, redirects) with its body."""

    def __init__(self, page: Page) -> None:
        self.responses: list[Response] = []
        page.on("response", lambda response: self.responses.append(response))

    def bodies(self) -> list[tuple[str, bytes]]:
        out = []
        for response in self.responses:
            try:
                body = response.body()
            except Exception:  # a redirect has no body to read
                body = b""
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            out.append((response.url, headers.encode() + b"\n" + body))
        return out
