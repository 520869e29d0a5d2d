"""Bearer-token authentication of ``/v1``.

Token lookups go through the principal cache: a token revoked here stops at once (the
revocation is announced), one revoked by another instance within
``CALPROXY_TOKEN_CACHE_SECONDS`` (at once too when the instances share a relay).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from proxy.errors import Unauthorized
from proxy.http.keys import PRINCIPALS
from proxy.store.records import User

USER = web.RequestKey("user", User)


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        request[USER] = await _authenticate(request)
    response: web.StreamResponse = await handler(request)
    return response


async def _authenticate(request: web.Request) -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization: send 'Bearer <token>'.", "missing_token")
    user = await request.app[PRINCIPALS].user_for_token(token.strip())
    if user is None:
        raise Unauthorized("Authorization: the token is unknown or revoked.", "invalid_token")
    return user


def current_user(request: web.Request) -> User:
    user: User = request[USER]
    return user
