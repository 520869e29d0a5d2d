"""Resolving ``{user}`` and the caller's relation to that user, once per request.

The rules live in :mod:`proxy.reads.target` (the portal uses them too); these wrappers
take the caller and the path from the request.
"""

from __future__ import annotations

from aiohttp import web

from proxy.core.policy import Policy
from proxy.http.auth import current_user
from proxy.http.keys import PRINCIPALS
from proxy.reads import target as targets
from proxy.reads.target import Target
from proxy.store.records import User

__all__ = ["Target", "caller_policy", "find_user", "resolve_target"]


async def find_user(request: web.Request, ref: str) -> User | None:
    return await targets.find_user(request.app[PRINCIPALS], current_user(request), ref)


async def resolve_target(request: web.Request) -> Target:
    """The ``{user}`` of the path as seen by the caller; 404 for unknown or outsiders."""
    return await targets.resolve_target(request.app[PRINCIPALS], current_user(request),
                                        request.match_info["user"])


async def caller_policy(request: web.Request) -> Policy:
    return await request.app[PRINCIPALS].policy(current_user(request).account_id)
