from __future__ import annotations

import os

import pytest

for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def pytest_ignore_collect(collection_path: object, config: pytest.Config) -> bool | None:
    """The browser suite runs on its own (``pytest tests/browser -p no:aiohttp -p no:asyncio``):
    Playwright's sync API and pytest-asyncio do not mix in one process."""
    from pathlib import Path

    path = Path(str(collection_path))
    if path.name == "browser" and path.parent.name == "tests" \
            and config.pluginmanager.has_plugin("asyncio"):
        return True
    return None
