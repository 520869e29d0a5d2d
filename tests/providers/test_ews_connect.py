"""Connect-time and run-time refusals of EWS URLs (the SSRF guard)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from proxy.config import Settings
from proxy.core.model import Service
from proxy.errors import Unprocessable, UpstreamError
from proxy.providers.ews_guard import validate_ews_url
from tests.fixtures.ews_harness import EwsHarness, ews_harness

ALLOW_HTTP = Settings(ews_allow_http=True)


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[EwsHarness]:
    async with ews_harness(aiohttp_server) as h:
        yield h


async def refused(settings: Settings, url: str, hosts: list[str],
                  service: Service = Service.EXCHANGE_EWS) -> str:
    with pytest.raises(Unprocessable) as caught:
        await validate_ews_url(settings, {"ews_url": url, "username": "u@example.com",
                                          "password": "pw"}, hosts, service)
    assert caught.value.code == "ews_host_not_allowed" and caught.value.status == 422
    assert "pw" not in caught.value.message
    return caught.value.message


def loopback_name() -> str:
    """A host name other than ``localhost`` that resolves to a loopback address here."""
    for name in (socket.gethostname(), "localhost.localdomain", "ip6-localhost"):
        try:
            if socket.gethostbyname(name).startswith("127.") and name != "localhost":
                return name
        except OSError:
            continue
    pytest.skip("no host name other than localhost resolves to loopback here")


async def test_host_not_in_allowed_list(harness: EwsHarness) -> None:
    message = await refused(ALLOW_HTTP, harness.url, ["mail.example.com"])
    assert "not in the account's allowed EWS hosts" in message
    await refused(ALLOW_HTTP, harness.url, [], Service.EWS_O365)


async def test_plain_http_needs_the_setting(harness: EwsHarness) -> None:
    message = await refused(Settings(), harness.url, ["127.0.0.1"])
    assert "https" in message
    await refused(ALLOW_HTTP, "ftp://127.0.0.1/EWS/Exchange.asmx", ["127.0.0.1"])
    await refused(ALLOW_HTTP, "http://u:pw@127.0.0.1/EWS/Exchange.asmx", ["127.0.0.1"])


async def test_name_resolving_to_loopback_is_refused(harness: EwsHarness) -> None:
    name = loopback_name()
    url = harness.url.replace("127.0.0.1", name)
    message = await refused(ALLOW_HTTP, url, [name])
    assert "internal address" in message
    # once the admin lists the address itself, the same name is accepted
    await validate_ews_url(ALLOW_HTTP, {"ews_url": url}, [name, "127.0.0.0/8"],
                           Service.EXCHANGE_EWS)


async def test_private_addresses_need_explicit_listing() -> None:
    url = "https://10.1.2.3/EWS/Exchange.asmx"
    await validate_ews_url(Settings(), {"ews_url": url}, ["10.1.2.3"], Service.EXCHANGE_EWS)
    await refused(Settings(), "https://169.254.169.254/EWS/Exchange.asmx", ["mail.example.com"])


async def test_explicit_loopback_hosts_work_end_to_end(harness: EwsHarness) -> None:
    await validate_ews_url(ALLOW_HTTP, {"ews_url": harness.url}, ["127.0.0.1"],
                           Service.EXCHANGE_EWS)
    await validate_ews_url(ALLOW_HTTP, {"ews_url": harness.url.replace("127.0.0.1",
                                                                        "localhost")},
                           ["localhost"], Service.EXCHANGE_EWS)
    provider = harness.connect()
    await provider.check()
    await provider.close()


async def test_runtime_guard_refuses_a_name_that_now_points_at_loopback(
        harness: EwsHarness) -> None:
    """Rebinding: a name validated earlier that resolves to loopback at connection time."""
    name = loopback_name()
    harness.url = harness.url.replace("127.0.0.1", name)
    provider = harness.connect()
    with pytest.raises(UpstreamError) as caught:
        await provider.list_calendars()
    assert caught.value.code == "ews_host_not_allowed"
    assert harness.emu.calls.total() == 0 and harness.emu.refused == 0
    await provider.close()
