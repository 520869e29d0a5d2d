"""Resolving ``{user}`` and the caller's relation to that user, once per request, through
the principal cache (:mod:`proxy.cache.principals`)."""

from __future__ import annotations

from aiohttp import web

from proxy.actions.target import Target, account_policy
from proxy.actions.target import resolve_target as resolve
from proxy.core.policy import Policy
from proxy.http.auth import current_user
from proxy.http.keys import PRINCIPALS

__all__ = ["TARGET", "Target", "caller_policy", "resolve_target"]

#: the request's resolved ``{user}`` (the audit trail names refusals by it)
TARGET = web.RequestKey("target", Target)


async def resolve_target(request: web.Request) -> Target:
    """The ``{user}`` of the path as seen by the caller; 404 for unknown or outsiders."""
    target = await resolve(request.app[PRINCIPALS], current_user(request),
                           request.match_info["user"])
    request[TARGET] = target
    return target


async def caller_policy(request: web.Request) -> Policy:
    return await account_policy(request.app[PRINCIPALS], current_user(request).account_id)
