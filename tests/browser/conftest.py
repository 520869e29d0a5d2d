"""Browser tests: Playwright's sync API driving Debian's Chromium against a live calproxy.

Run on their own (``make test`` does): ``pytest tests/browser -p no:aiohttp -p no:asyncio``;
Playwright's sync API does not mix with pytest-asyncio in one process, so the main run
skips this folder (``tests/conftest.py``). ``served`` is calproxy started as a subprocess
(``python -m proxy serve``) over a fresh SQLite file, with the Microsoft, Google and
Exchange emulators on free loopback ports and the demo's cast (:mod:`tests.browser.served`).
Screenshots go to ``test-results/screenshots`` (ignored by git).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import sign_in_as
from tests.browser.served import Served

#: a shared, loaded machine (CI or several engineers): be patient before failing
expect.set_options(timeout=15_000)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (``make test`` installs it); no browser downloads here."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    return {**browser_type_launch_args, "executable_path": path}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1200, "height": 900}}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def sign_in(page: Page, served: Served) -> Callable[[str], Page]:
    """``sign_in("assistant")``: the page, signed in as that person of the cast."""
    def as_person(who: str) -> Page:
        sign_in_as(page, served, who)
        return page

    return as_person


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """calproxy as a subprocess with the emulators and the demo's cast, for the session."""
    server = Served(tmp_path_factory.mktemp("served"))
    try:
        yield server
    finally:
        server.close()
