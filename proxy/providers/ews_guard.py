"""Keeps EWS integrations from aiming calproxy at addresses nobody allowed.

An EWS URL is user input that the server then calls with the user's credentials, so it is
a classic server-side request forgery vector. Two layers:

* :func:`validate_ews_url` runs at connect time: the host must be in the account's
  ``ews_hosts`` (``ews_o365`` always allows ``outlook.office365.com``), the scheme https
  unless ``CALPROXY_EWS_ALLOW_HTTP``, and every address the host resolves to must be public,
  unless the admin listed that address (or a network holding it, "10.0.0.0/8") in
  ``ews_hosts``, or listed the host by the literal name ``localhost``.
* :class:`GuardedAdapter` runs on every connection exchangelib opens, redirects included
  (exchangelib itself never follows a redirect: it raises, and the provider maps that to a
  502). It checks the address actually connected to, before a byte is sent, so that a DNS
  answer that changes after the connect-time check (rebinding) cannot reach loopback,
  link-local (cloud metadata) or unspecified addresses. Private networks stay reachable at
  run time, because on-premises Exchange lives there and the connect-time check already
  required the admin to list them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from proxy.config import Settings
from proxy.core.model import Service
from proxy.errors import Unprocessable
from proxy.operations.metrics import count_upstream

O365_HOST = "outlook.office365.com"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class GuardRefused(RuntimeError):
    """A connection was about to reach an address the guard forbids (no OSError on purpose:
    the HTTP stack must not mistake it for a network failure and retry or report a timeout)."""


def _refuse(message: str) -> Unprocessable:
    return Unprocessable(message, code="ews_host_not_allowed")


def is_internal(address: IPAddress) -> bool:
    """Loopback, private, link-local, unspecified, multicast or reserved: not the internet."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(address.is_loopback or address.is_private or address.is_link_local
                or address.is_unspecified or address.is_multicast or address.is_reserved)


def _allowed_networks(allowed_hosts: Iterable[str]) -> list[Network]:
    networks: list[Network] = []
    for entry in allowed_hosts:
        try:
            networks.append(ipaddress.ip_network(entry.strip().strip("[]"), strict=False))
        except ValueError:
            continue
    return networks


def _host_allowed(host: str, allowed_hosts: Sequence[str], service: Service) -> bool:
    names = {h.strip().lower().rstrip(".") for h in allowed_hosts}
    if service is Service.EWS_O365:
        names.add(O365_HOST)
    return host in names


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise _refuse(f"the EWS host {host} cannot be resolved") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _address_allowed(host: str, address: IPAddress, networks: Sequence[Network]) -> bool:
    if not is_internal(address):
        return True
    if any(address in net for net in networks):
        return True
    return host == "localhost" and address.is_loopback


async def validate_ews_url(settings: Settings, credentials: Mapping[str, str],
                           allowed_hosts: Sequence[str], service: Service) -> None:
    """Refuse an EWS URL that is not https, not on an allowed host, or resolves inward.

    Raises :class:`Unprocessable` with code ``ews_host_not_allowed``; the message names the
    host (the user typed it) but never the credentials.
    """
    raw = (credentials.get("ews_url") or "").strip()
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or parts.scheme not in {"https", "http"}:
        raise _refuse("ews_url must be an absolute https URL")
    if parts.scheme == "http" and not settings.ews_allow_http:
        raise _refuse("ews_url must use https (plain http is not allowed on this server)")
    if parts.username or parts.password:
        raise _refuse("ews_url must not carry credentials")
    if not _host_allowed(host, allowed_hosts, service):
        raise _refuse(f"the EWS host {host} is not in the account's allowed EWS hosts")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refuse("ews_url has an invalid port") from None
    networks = _allowed_networks(allowed_hosts)
    for address in await _resolve(host, port):
        if not _address_allowed(host, address, networks):
            raise _refuse(f"the EWS host {host} resolves to an internal address that was "
                          "not explicitly allowed")


def runtime_address_allowed(host: str, peer: str) -> bool:
    """The run-time rule: no loopback, link-local or unspecified peer unless the URL named
    exactly that address (or ``localhost`` for loopback)."""
    address = ipaddress.ip_address(peer.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    dangerous = (address.is_loopback or address.is_link_local or address.is_unspecified
                 or address.is_multicast)
    if not dangerous:
        return True
    host = host.strip("[]").lower()
    if host == "localhost":
        return address.is_loopback
    try:
        return ipaddress.ip_address(host) == address
    except ValueError:
        return False


def _checked(conn: HTTPConnection, sock: socket.socket) -> socket.socket:
    peer = sock.getpeername()[0]
    if not runtime_address_allowed(str(conn.host), str(peer)):
        sock.close()
        raise GuardRefused("the EWS host resolved to a forbidden address")
    return sock


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(self, super()._new_conn())


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(self, super()._new_conn())


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


#: which service an EWS request is made for, as the metrics' ``service`` label: set by
#: :class:`~proxy.providers.ews_session.EwsSession` around every call it hands a worker
#: thread (threads started with ``asyncio.to_thread`` inherit it, and the metrics with it)
EWS_SERVICE: ContextVar[Service] = ContextVar("calproxy_ews_service",
                                              default=Service.EXCHANGE_EWS)


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose every new connection passes :func:`runtime_address_allowed`."""

    def send(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Every EWS request on the wire, counted in the metrics (``error``: no answer)."""
        service = EWS_SERVICE.get().value
        try:
            response: requests.Response = super().send(*args, **kwargs)
        except Exception:
            count_upstream(service, "error")
            raise
        count_upstream(service, response.status_code)
        return response

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
