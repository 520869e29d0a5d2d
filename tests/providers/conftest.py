"""Fixtures shared by the provider tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fixtures.google_harness import GoogleEnv, start_google, stop_google


@pytest.fixture
async def env() -> AsyncIterator[GoogleEnv]:
    """The Google emulator on loopback and a provider connected to it."""
    google = await start_google()
    try:
        yield google
    finally:
        await stop_google(google)
