"""The shared provider contract, run against the real Google provider and the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fixtures.google_harness import GoogleHarness, start_google, stop_google

from .contract import ProviderContract


@pytest.fixture
async def harness() -> AsyncIterator[GoogleHarness]:
    env = await start_google()
    try:
        yield GoogleHarness(env)
    finally:
        await stop_google(env)


class TestGoogleProvider(ProviderContract):
    pass
