"""Logging set-up: calproxy's own loggers at the chosen level, chatty libraries muted.

Libraries below calproxy log what must never reach a log file: aiosqlite logs SQL
parameters (mirrored event JSON, token hashes) at DEBUG, httpx and kiota log request URLs
(mailbox ids), exchangelib logs whole SOAP bodies on errors. They are held at WARNING (or
CRITICAL) whatever level calproxy itself runs at.
"""

from __future__ import annotations

import logging

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
}


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    for name, floor in MUTED.items():
        logging.getLogger(name).setLevel(floor)
