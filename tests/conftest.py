from __future__ import annotations

import os
from pathlib import Path

import pytest

for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The browser suite runs on its own, without pytest-asyncio (``make browser-tests``)."""
    if collection_path.name == "browser" and config.pluginmanager.has_plugin("asyncio"):
        return True
    return None
