"""One mailbox's exchangelib plumbing: configuration, worker threads, limits, errors.

exchangelib is synchronous (requests), so every call runs in a worker thread, under a
per-mailbox semaphore that keeps us far below Exchange's concurrency limit (27 per
account) and never above the connection pool size. Server version and auth type are
detected once per (endpoint, user) and pinned, process-wide, so no call after the first
sends probe requests. exchangelib caches its protocols (connection pools) process-wide per
(endpoint, credentials): :meth:`EwsSession.close` evicts ours.

:func:`map_errors` is the one boundary where exchangelib's and requests' exceptions become
:mod:`proxy.errors`; messages name EWS response codes and HTTP statuses only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    NTLM,
    OAUTH2,
    Account,
    Build,
    Configuration,
    Credentials,
    FailFast,
    OAuth2AuthorizationCodeCredentials,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.protocol import BaseProtocol, CachingProtocol
from exchangelib.transport import get_auth_method_from_response

from proxy.core.model import Service
from proxy.errors import (
    CalproxyError,
    CursorExpired,
    Unprocessable,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamThrottled,
    UpstreamTimeout,
)
from proxy.providers.base import Connection, TokenSource
from proxy.providers.ews_guard import EWS_SERVICE, GuardedAdapter, GuardRefused

T = TypeVar("T")

#: Exchange allows 27 concurrent requests per account; we stay well below, per mailbox.
MAX_CONCURRENCY = 4
DEFAULT_BUILD = Build(15, 1, 2507, 6)
#: honour ErrorServerBusy's back-off at most this often and this long, then give up (503)
BUSY_RETRIES = 2
BUSY_BUDGET_SECONDS = 4.0
#: the wait assumed when Exchange is busy without saying for how long (HTTP 503)
DEFAULT_BACK_OFF = 5.0
_STATUS = re.compile(r"Code: (\d{3})")
_BACK_OFF = re.compile(rb'Name="BackOffMilliseconds"[^>]*>\s*(\d+)\s*<')

_pinned: dict[tuple[str, str], tuple[str, Build]] = {}
_limits: dict[str, asyncio.Semaphore] = {}
_install_lock = threading.Lock()


def _install_guard() -> None:
    """Route every exchangelib connection through :class:`GuardedAdapter` (process-wide,
    because exchangelib builds its adapters in class methods)."""
    with _install_lock:
        BaseProtocol.HTTP_ADAPTER_CLS = GuardedAdapter


def _account_address(credentials: dict[str, str]) -> str:
    for key in ("email", "mailbox", "username"):
        value = credentials.get(key, "")
        if "@" in value:
            return value
    raise Unprocessable("the EWS integration needs the mailbox's email address "
                        "(username or email)", code="ews_mailbox_unknown")


@dataclass
class _Context:
    account: Account
    oauth_token: str | None = None


class EwsSession:
    """The exchangelib account of one integration, and how to call it safely."""

    timeout: float = 30.0

    def __init__(self, connection: Connection, service: Service) -> None:
        _install_guard()
        self.connection, self.service = connection, service
        self.credentials = dict(connection.credentials)
        self.endpoint = self.credentials.get("ews_url", "")
        self.address = _account_address(self.credentials)
        self.tokens: TokenSource | None = connection.tokens
        self.key = connection.mailbox_key or f"{self.endpoint}|{self.address}"
        self._context: _Context | None = None
        self._build_lock = asyncio.Lock()

    # -- building the account ------------------------------------------------------------

    def _pin_key(self) -> tuple[str, str]:
        return self.endpoint, self.credentials.get("username", self.address)

    def _detect_auth_type(self) -> str:
        """One unauthenticated POST through the guard: read what WWW-Authenticate offers."""
        with requests.Session() as session:
            session.mount(self.endpoint, GuardedAdapter(max_retries=0))
            response = session.post(self.endpoint, data=b"", allow_redirects=False,
                                    timeout=self.timeout, headers={"Content-Type": "text/xml"})
            response.close()
        if response.status_code in (301, 302, 303, 307, 308):
            raise UpstreamError("EWS answered a redirect; calproxy does not follow them")
        try:
            return str(get_auth_method_from_response(response))
        except ews_errors.UnauthorizedError:
            return str(BASIC)

    def _ews_credentials(self, token: str | None) -> Any:
        if self.tokens is not None:
            return OAuth2AuthorizationCodeCredentials(
                access_token={"access_token": token, "token_type": "Bearer"})
        return Credentials(self.credentials.get("username", ""),
                           self.credentials.get("password", ""))

    def _build(self, token: str | None) -> _Context:
        pinned = _pinned.get(self._pin_key())
        auth_type = (self.credentials.get("auth_type") or (pinned[0] if pinned else None)
                     or (OAUTH2 if self.tokens is not None else self._detect_auth_type()))
        if auth_type not in (BASIC, NTLM, OAUTH2):
            raise UpstreamError(f"EWS offers no supported auth type ({auth_type})")
        build = pinned[1] if pinned else DEFAULT_BUILD
        config = Configuration(
            service_endpoint=self.endpoint, credentials=self._ews_credentials(token),
            auth_type=auth_type, version=Version(build=build), retry_policy=ThrottleAware(),
            max_connections=MAX_CONCURRENCY)
        account = Account(self.address, config=config, autodiscover=False, access_type=DELEGATE,
                          default_timezone=None)
        account.protocol.TIMEOUT = self.timeout
        return _Context(account, token)

    def pin_detected(self) -> None:
        """Remember the auth type and the server build the first answers revealed."""
        if self._context is not None:
            account = self._context.account
            _pinned[self._pin_key()] = (str(account.protocol.auth_type), account.version.build)

    async def _context_for_call(self) -> _Context:
        token = await self.tokens.access_token() if self.tokens is not None else None
        async with self._build_lock:
            if self._context is None:
                self._context = await self._in_thread(self._build, token)
            elif token is not None and token != self._context.oauth_token:
                self._set_token(self._context, token)
        return self._context

    @staticmethod
    def _set_token(context: _Context, token: str) -> None:
        """Swap the access token in place: the credentials' hash ignores it, so exchangelib's
        protocol cache keeps one entry; the old sessions, which hold the old token, go."""
        protocol = context.account.protocol
        protocol.credentials.access_token = {
            "access_token": token, "token_type": "Bearer"}
        protocol.close()
        context.oauth_token = token

    # -- calling -------------------------------------------------------------------------

    def _limit(self) -> asyncio.Semaphore:
        return _limits.setdefault(self.key, asyncio.Semaphore(MAX_CONCURRENCY))

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` mapped, in a worker thread whose requests count under this
        session's service (the thread inherits the context as it is here)."""
        label = EWS_SERVICE.set(self.service)
        try:
            return await asyncio.to_thread(self._run_mapped, fn, *args)
        finally:
            EWS_SERVICE.reset(label)

    def _run_mapped(self, fn: Callable[..., T], *args: Any) -> T:
        with map_errors(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(account, *args)`` in a worker thread, mapped, limited and retried.

        ErrorServerBusy is retried at most :data:`BUSY_RETRIES` times within
        :data:`BUSY_BUDGET_SECONDS`; after that it surfaces as ``UpstreamThrottled``. An
        OAuth 401 refreshes the token once and retries once.
        """
        refreshed = False
        spent = 0.0
        for attempt in range(BUSY_RETRIES + 1):
            context = await self._context_for_call()
            try:
                async with self._limit():
                    return await self._in_thread(fn, context.account, *args)
            except _Busy as exc:
                wait = exc.wait
                if attempt == BUSY_RETRIES or spent + wait > BUSY_BUDGET_SECONDS:
                    raise
                spent += wait
                await asyncio.sleep(wait)
            except _Unauthorized:
                if self.tokens is None:
                    raise UpstreamAuthError("EWS refused the credentials (HTTP 401)") from None
                if refreshed:
                    raise UpstreamAuthError("EWS refused the refreshed token (HTTP 401)") from None
                refreshed = True
                self._set_token(context, await self.tokens.refresh())
        raise UpstreamError("EWS call failed")  # pragma: no cover - the loop returns or raises

    async def close(self) -> None:
        """Evict this mailbox's protocol (and its pooled connections) from exchangelib."""
        context, self._context = self._context, None
        if context is None:
            return
        protocol = context.account.protocol
        cache = CachingProtocol._protocol_cache
        with CachingProtocol._protocol_cache_lock:
            # rebuilt rather than ``del``: an OAuth key's hash may have moved with its token
            keep = [(k, v) for k, v in cache.items() if v[0] is not protocol]
            cache.clear()
            cache.update(keep)
        await asyncio.to_thread(protocol.close)


class ThrottleAware(FailFast):  # type: ignore[misc]
    """exchangelib's fail-fast policy, except that HTTP 429 and 503 are what they mean:
    Exchange is busy. They become ``ErrorServerBusy`` with the longest wait the answer
    names (``Retry-After`` seconds, or an ErrorServerBusy fault's ``BackOffMilliseconds``),
    which :meth:`EwsSession.call` honours within its budget. Without this a 429 would be
    an unknown failure (502) and a 503's hint would be lost."""

    def raise_response_errors(self, response: requests.Response) -> None:
        if response.status_code in (429, 503):
            raise ews_errors.ErrorServerBusy(f"HTTP {response.status_code}",
                                             back_off=throttle_wait(response))
        super().raise_response_errors(response)


def throttle_wait(response: requests.Response) -> float | None:
    """Seconds a throttling answer asks us to wait, from its header or its fault body."""
    waits: list[float] = []
    header = response.headers.get("Retry-After", "").strip()
    if header.isdigit():
        waits.append(float(header))
    elif header:
        with suppress(TypeError, ValueError, IndexError):
            waits.append(max(0.0, parsedate_to_datetime(header).timestamp() - time.time()))
    hint = _BACK_OFF.search(response.content or b"")
    if hint:
        waits.append(int(hint.group(1)) / 1000)
    return max(waits) if waits else None


class _Unauthorized(UpstreamAuthError):
    """Internal: a 401 that the caller may still cure by refreshing an OAuth token."""


class _Busy(UpstreamThrottled):
    """ErrorServerBusy, keeping Exchange's exact back-off hint for our own retry."""

    def __init__(self, back_off: float | None, cause: str = "ErrorServerBusy") -> None:
        self.wait = back_off if back_off and back_off > 0 else DEFAULT_BACK_OFF
        super().__init__(f"EWS is busy ({cause}), retry after {self.wait:g} s",
                         retry_after=self.wait)


@contextmanager
def map_errors() -> Iterator[None]:
    """Translate everything exchangelib, requests and the guard raise into proxy.errors."""
    try:
        yield
    except (CalproxyError, CursorExpired):
        raise
    except GuardRefused:
        raise UpstreamError("the EWS host resolved to a forbidden address",
                            code="ews_host_not_allowed") from None
    except ews_errors.ErrorServerBusy as exc:
        cause = str(exc) if str(exc) in ("HTTP 429", "HTTP 503") else "ErrorServerBusy"
        raise _Busy(exc.back_off, cause) from None
    except ews_errors.UnauthorizedError:
        raise _Unauthorized("EWS refused the credentials (HTTP 401)") from None
    except (ews_errors.ErrorItemNotFound, ews_errors.ErrorFolderNotFound):
        raise UpstreamNotFound("the item does not exist in Exchange") from None
    except ews_errors.ErrorTimeoutExpired:
        raise UpstreamTimeout("EWS did not answer in time") from None
    except requests.Timeout:
        raise UpstreamTimeout("EWS did not answer in time") from None
    except ews_errors.RedirectError:
        raise UpstreamError("EWS answered a redirect; calproxy does not follow them") from None
    except ews_errors.ErrorInternalServerTransientError:
        raise UpstreamError("EWS failed (ErrorInternalServerTransientError)") from None
    except ews_errors.MalformedResponseError as exc:
        status = _STATUS.search(str(exc))
        if status:
            raise UpstreamError(f"EWS failed (HTTP {status.group(1)})") from None
        raise UpstreamError("EWS answered a malformed response") from None
    except ews_errors.SOAPError:
        raise UpstreamError("EWS answered a malformed response") from None
    except ews_errors.ResponseMessageError as exc:
        raise UpstreamError(f"EWS answered {type(exc).__name__}") from None
    except ews_errors.TransportError:
        raise UpstreamError("EWS could not be reached (transport error)") from None
    except requests.RequestException as exc:
        raise UpstreamError(f"EWS could not be reached ({type(exc).__name__})") from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise UpstreamError(f"EWS answered a malformed response ({type(exc).__name__})") from None
    except Exception as exc:  # anything else the library stack raises (oauthlib, ...)
        raise UpstreamError(f"the EWS call failed ({type(exc).__name__})") from None


def quiet_library_logs() -> None:
    """exchangelib logs whole SOAP requests and answers (event content) on errors; calproxy
    never lets event content reach its logs, so only its critical messages pass."""
    logging.getLogger("exchangelib").setLevel(logging.CRITICAL)
