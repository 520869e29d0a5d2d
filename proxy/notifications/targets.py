"""Where webhooks may be delivered: never into the server's own network (SSRF).

A URL must be https (plain http only where ``CALPROXY_WEBHOOK_ALLOW_HTTP`` allows it, for
tests). A host named in ``CALPROXY_WEBHOOK_ALLOWED_HOSTS`` (names or literal addresses,
compared as written) is allowed as is; any other host is refused when ANY address it
resolves to is not a public one (loopback, private, link-local, unique-local, multicast,
reserved, unspecified, and IPv4 hidden in IPv6). The check runs when a webhook is created
and again before every delivery, because a name can be re-pointed after the first check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from proxy.errors import BadRequest

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


def _refuse(reason: str) -> BadRequest:
    return BadRequest(f"url: {reason}", "webhook_url_not_allowed")


async def vet_url(url: str, allowed_hosts: Sequence[str], allow_http: bool,
                  resolver: Resolver = resolve) -> None:
    """Raise ``BadRequest`` (``webhook_url_not_allowed``) unless ``url`` may receive."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refuse("not a valid URL") from None
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise _refuse("must be an https URL")
    host = parts.hostname
    if not host or parts.username is not None or parts.password is not None:
        raise _refuse("must name a host, without user name or password")
    if host in allowed_hosts:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolver(host, port)
        except OSError:
            raise _refuse(f"the host {host} cannot be resolved") from None
    if not addresses or not all(is_public(a) for a in addresses):
        raise _refuse(f"the host {host} is not a public address "
                      "(list it in CALPROXY_WEBHOOK_ALLOWED_HOSTS to allow it)")
