"""Webhook URLs never reach the server's own network (the resolver is injected so the
test can point a name anywhere, as DNS could)."""

from __future__ import annotations

import pytest

from proxy.errors import BadRequest
from proxy.notifications.targets import vet_url


def resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]
    return resolve


PUBLIC = "93.184.215.14"


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1",
    "2002:7f00:1::1",
])
async def test_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(BadRequest) as refused:
        await vet_url("https://hooks.example/x", [], False,
                      resolver({"hooks.example": [PUBLIC, address]}))
    assert refused.value.code == "webhook_url_not_allowed"
    host = address if ":" not in address else f"[{address}]"
    with pytest.raises(BadRequest):
        await vet_url(f"https://{host}/x", [], False, resolver({}))


async def test_public_hosts_and_listed_hosts_pass() -> None:
    await vet_url("https://hooks.example/x", [], False, resolver({"hooks.example": [PUBLIC]}))
    await vet_url("https://127.0.0.1:9/x", ["127.0.0.1"], False, resolver({}))
    await vet_url("https://inside.test/x", ["inside.test"], False, resolver({}))


@pytest.mark.parametrize("url", [
    "http://hooks.example/x", "ftp://hooks.example/x", "https:///x", "not a url",
    "https://user:pw@hooks.example/x", "https://unknown.example/x", "https://[::1/x",
])
async def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(BadRequest):
        await vet_url(url, [], False, resolver({"hooks.example": [PUBLIC]}))


async def test_plain_http_only_where_allowed() -> None:
    await vet_url("http://hooks.example/x", [], True, resolver({"hooks.example": [PUBLIC]}))
