"""Conditional GET: ETags of the bytes sent, and 304 for ``If-None-Match``.

The JSON reads and the ICS feeds both answer from a finished rendering with its ETag, so
a client that already holds the bytes is told so without receiving them again. The ETag
is a hash of the redacted bytes only: it tells a caller nothing the body would not.
"""

from __future__ import annotations

from aiohttp import web

from proxy.cache.views import Answer

#: answers depend on the caller: no shared cache may keep them, every reuse revalidates
JSON_CACHE_CONTROL = "private, no-cache"


def etag_matches(request: web.Request, etag: str) -> bool | None:
    """Whether ``If-None-Match`` names ``etag`` (weak or strong, or ``*``); ``None``
    when the request has no such header."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return None
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def json_answer(request: web.Request, answer: Answer) -> web.Response:
    """200 with the answer's bytes, or 304 when the client holds them already."""
    headers = {"ETag": answer.etag, "Cache-Control": JSON_CACHE_CONTROL,
               "Vary": "Authorization"}
    if etag_matches(request, answer.etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=answer.body, headers=headers, content_type="application/json")
