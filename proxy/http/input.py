"""Reading request input: every refusal is a 400 that names the field."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from proxy.core.timeutil import parse_rfc3339
from proxy.errors import BadRequest

MAX_WINDOW = timedelta(days=366)
MAX_BODY = 256 * 1024


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; an empty body counts as ``{}``."""
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise BadRequest("body: larger than 256 KiB", "body_too_large")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body: not valid JSON", "invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequest("body: expected a JSON object", "invalid_body")
    return body


def only_fields(body: dict[str, Any], allowed: set[str], where: str = "") -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"{where}{unknown[0]}: unknown field", "unknown_field")


def get_str(body: dict[str, Any], name: str, required: bool = False,
            max_len: int = 10_000, where: str = "") -> str | None:
    """``body[name]`` as a string; ``where`` prefixes the field in messages."""
    value = body.get(name)
    name = where + name
    if value is None:
        if required:
            raise BadRequest(f"{name}: required", "missing_field")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name}: expected a string", "invalid_field")
    if len(value) > max_len:
        raise BadRequest(f"{name}: longer than {max_len} characters", "invalid_field")
    return value


def get_choice(body: dict[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or value not in choices:
        raise BadRequest(f"{name}: expected one of {', '.join(choices)}", "invalid_field")
    return value


def get_bool(body: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    value = body.get(name, default)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{name}: expected true or false", "invalid_field")
    return value


def get_int(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{name}: expected a whole number from {low} to {high}",
                         "invalid_field")
    return value


def query_time(request: web.Request, name: str) -> datetime:
    raw = request.query.get(name)
    if raw is None:
        raise BadRequest(f"{name}: required (RFC 3339, e.g. 2026-11-24T00:00:00Z)",
                         "missing_field")
    try:
        return parse_rfc3339(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}", "invalid_field") from None


def query_window(request: web.Request) -> tuple[datetime, datetime]:
    start, end = query_time(request, "start"), query_time(request, "end")
    if end <= start:
        raise BadRequest("end: must be after start", "invalid_window")
    if end - start > MAX_WINDOW:
        raise BadRequest("end: the window may span at most 366 days", "invalid_window")
    return start, end
