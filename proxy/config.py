"""Configuration, declared once as a typed schema and read once.

:func:`load_settings` builds a frozen :class:`Settings` from the environment, optionally
on top of a TOML file (environment wins). Nothing reads the environment at import time;
the settings object is passed down explicitly. A bad value raises :class:`ConfigError`
naming the variable.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(ValueError):
    """A configuration value was refused; the message names the variable."""


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("expected a port number between 0 and 65535")
    return value


def _non_negative(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected a non-negative whole number")
    return value


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


def _redis_url(raw: str) -> str:
    if urlsplit(raw.strip()).scheme not in {"redis", "rediss", "unix"}:
        raise ValueError("expected a redis://, rediss:// or unix:// URL")
    return raw.strip()


def _url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("expected an http or https URL")
    return raw.strip().rstrip("/")


_ASYNC_SCHEMES = {
    "sqlite": "sqlite+aiosqlite", "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
DATABASE_URL_FORMS = ("sqlite:///path, sqlite+aiosqlite:///path (sqlite+aiosqlite:// in memory), "
                      "postgresql://..., postgres://... or postgresql+asyncpg://...")


def _db_url(raw: str) -> str:
    """The one place a database URL becomes the async URL every command uses.

    The plain forms that guides and hosting platforms hand out (``sqlite:///path``,
    ``postgresql://``, ``postgres://``) name no driver, or a synchronous one SQLAlchemy
    would then fail to load deep inside a command; they are mapped to aiosqlite and
    asyncpg here. libpq's ``sslmode`` becomes asyncpg's ``ssl`` (same values).
    """
    scheme, sep, rest = raw.strip().partition("://")
    target = _ASYNC_SCHEMES.get(scheme.lower())
    if not sep or target is None:
        problem = "unsupported database URL"
    elif target == "sqlite+aiosqlite" and rest and not rest.startswith("/"):
        problem = "a SQLite URL has three slashes before its path"
    elif target == "postgresql+asyncpg" and not rest.strip("/"):
        problem = "a PostgreSQL URL names a host or a database"
    else:
        url = f"{target}://" + re.sub(r"([?&])sslmode=", r"\1ssl=", rest)
        try:
            make_url(url)
            return url
        except (ArgumentError, ValueError):  # the URL is not echoed: it may hold a password
            problem = "not a well-formed URL"
    raise ValueError(f"{problem}; expected one of {DATABASE_URL_FORMS}")


def _version(raw: str) -> str:
    parts = raw.strip().split(".")
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError("expected a dotted version such as 5.2.2")
    return raw.strip()


def _gap_seconds(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 3600:  # NaN fails too
        raise ValueError("expected a number of seconds from 0 to 3600, such as 5 or 0.5")
    return value


def _positive_hours(raw: str) -> float:
    value = float(raw)
    if not 0 < value < 24 * 366:  # NaN fails too
        raise ValueError("expected a positive number of hours such as 12 or 0.5")
    return value


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket: ``per_second`` tokens added each second, at most ``burst`` held."""

    per_second: float
    burst: int

    def __str__(self) -> str:
        return f"{self.per_second:g}:{self.burst}"


#: the defaults of DESIGN §12: 20 requests/s with bursts of 40 per token, 1/s and 10 per feed
API_RATE, FEED_RATE = Rate(20, 40), Rate(1, 10)


def _rate(raw: str) -> Rate | None:
    """``RATE:BURST`` (requests per second, bucket size), ``RATE`` alone (burst twice
    the rate), or ``off``."""
    value = raw.strip().lower()
    if value in {"off", "none", "0"}:
        return None
    rate_text, _, burst_text = value.partition(":")
    try:
        rate = float(rate_text.removesuffix("/s"))
        burst = int(burst_text) if burst_text else max(1, int(rate * 2))
    except ValueError:
        raise ValueError("expected RATE:BURST such as 20:40 (per second), or off") from None
    if not (rate > 0 and burst >= 1):
        raise ValueError("expected a positive rate and a burst of at least 1")
    return Rate(rate, burst)


def _log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"text", "json"}:
        raise ValueError("expected text or json")
    return value


def _push_mode(raw: str) -> str:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return "on"
    if value in {"0", "false", "no", "off"}:
        return "off"
    if value in {"", "auto"}:
        return "auto"
    raise ValueError("expected on, off or auto")


def _text(raw: str) -> str:
    return raw


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _setting(env: str, default: Any, convert: Callable[[str], Any], help: str) -> Any:
    return field(default=default, metadata={"env": env, "convert": convert, "help": help})


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting(
        "CALPROXY_DATABASE_URL", "sqlite+aiosqlite:///calproxy.sqlite3", _db_url,
        "SQLAlchemy URL of the store (SQLite file or PostgreSQL)")
    host: str = _setting("CALPROXY_HOST", "127.0.0.1", _text, "address to listen on")
    port: int = _setting("CALPROXY_PORT", 8080, _port, "port to listen on")
    public_url: str | None = _setting(
        "CALPROXY_PUBLIC_URL", None, _url, "base URL for OAuth redirects and feed URLs")
    secret_key: str | None = _setting(
        "CALPROXY_SECRET_KEY", None, _text, "encrypts provider credentials (required)")
    graph_url: str = _setting(
        "CALPROXY_GRAPH_URL", "https://graph.microsoft.com/v1.0", _url, "Microsoft Graph base URL")
    ms_login_url: str = _setting(
        "CALPROXY_MS_LOGIN_URL", "https://login.microsoftonline.com/common", _url,
        "Microsoft identity platform tenant URL")
    ms_client_id: str | None = _setting("CALPROXY_MS_CLIENT_ID", None, _text, "Microsoft app id")
    ms_client_secret: str | None = _setting(
        "CALPROXY_MS_CLIENT_SECRET", None, _text, "Microsoft app secret")
    google_calendar_url: str = _setting(
        "CALPROXY_GOOGLE_CALENDAR_URL", "https://www.googleapis.com/calendar/v3", _url,
        "Google Calendar API base URL")
    google_people_url: str = _setting(
        "CALPROXY_GOOGLE_PEOPLE_URL", "https://people.googleapis.com", _url,
        "Google People API root URL")
    google_auth_url: str = _setting(
        "CALPROXY_GOOGLE_AUTH_URL", "https://accounts.google.com/o/oauth2/v2/auth", _url,
        "Google OAuth authorize endpoint")
    google_token_url: str = _setting(
        "CALPROXY_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token", _url,
        "Google OAuth token endpoint")
    google_client_id: str | None = _setting(
        "CALPROXY_GOOGLE_CLIENT_ID", None, _text, "Google OAuth client id")
    google_client_secret: str | None = _setting(
        "CALPROXY_GOOGLE_CLIENT_SECRET", None, _text, "Google OAuth client secret")
    ews_allow_http: bool = _setting(
        "CALPROXY_EWS_ALLOW_HTTP", False, _bool, "allow plain-http EWS URLs (tests only)")
    min_prompt_client_version: str = _setting(
        "CALPROXY_MIN_PROMPT_CLIENT_VERSION", "5.2.2", _version,
        "oldest client version that gets a sign-in prompt")
    sync_past_days: int = _setting(
        "CALPROXY_SYNC_PAST_DAYS", 30, _non_negative, "days before today that are mirrored")
    sync_future_days: int = _setting(
        "CALPROXY_SYNC_FUTURE_DAYS", 365, _non_negative, "days after today that are mirrored")
    freshness_seconds: int = _setting(
        "CALPROXY_FRESHNESS_SECONDS", 60, _non_negative,
        "a change upstream shows in reads within this time")
    scheduler: bool = _setting(
        "CALPROXY_SCHEDULER", True, _bool,
        "background sync keeps every mirror fresh (`off` for tests that need quiet)")
    sync_concurrency: int = _setting(
        "CALPROXY_SYNC_CONCURRENCY", 8, _positive,
        "background sync rounds running at once in one instance")
    redis_url: str | None = _setting(
        "CALPROXY_REDIS_URL", None, _redis_url,
        "Redis for cross-instance change notices (pub/sub) instead of PostgreSQL NOTIFY, "
        "and for rate limits shared by every instance")
    google_issuer: str = _setting(
        "CALPROXY_GOOGLE_ISSUER", "https://accounts.google.com", _url,
        "Google's OpenID Connect issuer (its discovery document sits below it)")
    portal_session_hours: float = _setting(
        "CALPROXY_PORTAL_SESSION_HOURS", 12.0, _positive_hours,
        "a portal session ends after this many idle hours (a decimal number)")
    metrics_token: str | None = _setting(
        "CALPROXY_METRICS_TOKEN", None, _text,
        "bearer token of `GET /metrics` (unset: no metrics endpoint)")
    rate_limit: Rate | None = _setting(  # noqa: RUF009 (Rate is frozen)
        "CALPROXY_RATE_LIMIT", API_RATE, _rate,
        "requests per second and burst per API token on `/v1`: `RATE:BURST`, or `off`")
    feed_rate_limit: Rate | None = _setting(  # noqa: RUF009 (Rate is frozen)
        "CALPROXY_FEED_RATE_LIMIT", FEED_RATE, _rate,
        "requests per second and burst per feed secret on `/feeds`: `RATE:BURST`, or `off`")
    audit_days: int = _setting(
        "CALPROXY_AUDIT_DAYS", 90, _non_negative, "days audit records are kept")
    log_format: str = _setting(
        "CALPROXY_LOG_FORMAT", "text", _log_format,
        "`text`, or `json`: one JSON object a line")
    token_cache_seconds: int = _setting(
        "CALPROXY_TOKEN_CACHE_SECONDS", 5, _non_negative,
        "token and other principal lookups are cached at most this long (a token revoked "
        "on another instance without a relay stops within it)")

    webhook_allowed_hosts: tuple[str, ...] = _setting(
        "CALPROXY_WEBHOOK_ALLOWED_HOSTS", (), _names,
        "webhook hosts allowed although they resolve to internal addresses (comma-separated)")
    webhook_allow_http: bool = _setting(
        "CALPROXY_WEBHOOK_ALLOW_HTTP", False, _bool, "allow plain-http webhook URLs (tests only)")
    change_log_hours: int = _setting(
        "CALPROXY_CHANGE_LOG_HOURS", 24, _positive,
        "hours change notifications are kept for `Last-Event-ID` replay (at least 1; "
        "longer while an active webhook still waits for them)")

    push: str = _setting(
        "CALPROXY_PUSH", "auto", _push_mode,
        "change notifications from Graph and Google: `on`, `off`, or `auto` (on when "
        "`CALPROXY_PUBLIC_URL` is https)")
    push_allow_http: bool = _setting(
        "CALPROXY_PUSH_ALLOW_HTTP", False, _bool,
        "allow provider notifications to a plain-http public URL (tests only)")
    push_min_gap_seconds: float = _setting(
        "CALPROXY_PUSH_MIN_GAP_SECONDS", 5.0, _gap_seconds,
        "seconds at least between two notified sync rounds of one calendar (a busy "
        "calendar costs at most 3600/gap rounds an hour; a change shows within about "
        "the gap plus half a second)")

    @property
    def push_enabled(self) -> bool:
        """Whether calproxy asks providers for change notifications: ``on``, or ``auto``
        with an https public URL; and the public URL is https, or plain http is allowed
        (``CALPROXY_PUSH_ALLOW_HTTP``, tests). Providers refuse other addresses."""
        https = urlsplit(self.base_url).scheme == "https"
        wanted = self.push == "on" or (self.push == "auto" and https)
        return wanted and (https or self.push_allow_http)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/oauth/callback"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def schema() -> list[tuple[str, str, Any, str]]:
    """(attribute, variable, default, help) of every setting, for docs and tests."""
    return [
        (f.name, f.metadata["env"], f.default, f.metadata["help"]) for f in fields(Settings)
    ]


def load_settings(
    environ: Mapping[str, str] | None = None,
    toml_path: str | Path | None = None,
    require_secret: bool = True,
) -> Settings:
    """Build the settings from ``environ`` (default ``os.environ``) over a TOML file.

    The TOML file uses the variable names without the ``CALPROXY_`` prefix, lower-case
    (``database_url = "..."``). Unknown keys are refused.
    """
    env = dict(os.environ if environ is None else environ)
    toml_path = toml_path or env.get("CALPROXY_CONFIG")
    raw: dict[str, str] = {}
    if toml_path:
        raw.update(_read_toml(Path(toml_path)))
    raw.update({k: v for k, v in env.items() if k.startswith("CALPROXY_")})
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = f.metadata["env"]
        if name in raw:
            try:
                values[f.name] = f.metadata["convert"](raw[name])
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from None
    settings = Settings(**values)
    if require_secret and not settings.secret_key:
        raise ConfigError("CALPROXY_SECRET_KEY: required (it encrypts provider credentials)")
    return settings


def _read_toml(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"CALPROXY_CONFIG: cannot read {path}: {exc}") from None
    known = {f.metadata["env"] for f in fields(Settings)}
    out: dict[str, str] = {}
    for key, value in data.items():
        name = "CALPROXY_" + key.upper()
        if name not in known:
            raise ConfigError(f"CALPROXY_CONFIG: unknown setting {key!r} in {path}")
        out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out
