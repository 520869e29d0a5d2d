from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fixtures.ews_harness import EwsHarness, ews_harness

from .contract import ProviderContract


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[EwsHarness]:
    async with ews_harness(aiohttp_server) as h:
        yield h


class TestEwsProvider(ProviderContract):
    pass
