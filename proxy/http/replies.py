"""One JSON writer for every answer the API sends that is not a cached read.

Reads send bytes rendered once by :func:`proxy.render.json.json_bytes` (orjson) and kept
in the read caches; everything else (writes, listings, errors, health) goes through
:func:`json_reply`, which uses the same encoder, so every JSON answer is written the same
way (compact, UTF-8) and none pays for the standard library's encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from proxy.render.json import json_bytes


def json_reply(value: Any, *, status: int = 200,
               headers: Mapping[str, str] | None = None) -> web.Response:
    """``value`` as an ``application/json`` answer (UTF-8, as RFC 8259 requires)."""
    return web.Response(body=json_bytes(value), status=status, headers=headers,
                        content_type="application/json")
