"""Logging set-up: calproxy's own loggers at the chosen level, chatty libraries muted,
in plain text or one JSON object a line (``CALPROXY_LOG_FORMAT``).

Libraries below calproxy log what must never reach a log file: aiosqlite logs SQL
parameters (mirrored event JSON, token hashes) at DEBUG, httpx and kiota log request URLs
(mailbox ids), exchangelib logs whole SOAP bodies on errors. They are held at WARNING (or
CRITICAL) whatever level calproxy itself runs at.

Every line written while a request is handled carries that request's id
(:data:`REQUEST_ID`, a context variable the HTTP layer sets), so one request can be
followed through the logs. In JSON, each line is ``{"time", "level", "logger",
"message"}`` plus ``request_id`` where there is one, ``exception`` where there is one
(the formatted traceback), and the structured fields an access line adds (``method``,
``route``, ``status``, ``duration_ms``).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import IO

MUTED = {
    "aiosqlite": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "asyncpg": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "kiota_http": logging.WARNING,
    "kiota_abstractions": logging.WARNING,
    "googleapiclient": logging.WARNING,
    "google_auth_httplib2": logging.WARNING,
    "exchangelib": logging.CRITICAL,
    "requests_oauthlib": logging.WARNING,
    "urllib3": logging.WARNING,
    "aiohttp.access": logging.WARNING,  # raw paths and queries: feed secrets, OAuth codes
}

#: the id of the request being handled (``None`` outside requests)
REQUEST_ID: ContextVar[str | None] = ContextVar("calproxy_request_id", default=None)

#: record attributes that structured lines may carry (set with ``extra=``)
FIELDS = ("request_id", "method", "route", "status", "duration_ms")

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id, unless it carries one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (tracebacks included, escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO, log_format: str = "text",
                      stream: IO[str] | None = None) -> logging.Handler:
    """Send every log line to ``stream`` (stderr) as ``text`` or ``json``; return the
    handler (replacing one an earlier call installed). In JSON, uncaught exceptions are
    logged too, so that even a crash's traceback is a JSON line."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "calproxy", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.calproxy = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for name, floor in MUTED.items():
        logging.getLogger(name).setLevel(floor)
    if log_format == "json":
        sys.excepthook = _log_uncaught
    return handler


def _log_uncaught(kind: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
    logging.getLogger("calproxy").critical("uncaught %s", kind.__name__,
                                           exc_info=(kind, exc, tb))
