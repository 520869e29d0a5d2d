"""calproxy's one error tree.

Every error a caller can see is a :class:`CalproxyError` carrying its contract ``code``
and HTTP ``status``; one middleware renders them as
``{"error": {"code": ..., "message": ...}}``. Messages name fields and services, never
event content. Provider modules map their library's exceptions onto the ``Upstream*``
leaves at one boundary, chained with ``from``.

    CalproxyError
    ├── BadRequest            400  (message names the field)
    ├── Unauthorized          401
    ├── Forbidden             403  policy_read_only, integration_read_only, ...
    ├── NotFound              404
    ├── Conflict              409  reintegration_required, needs_reauth, ...
    ├── Unprocessable         422  service_client_side_only, hybrid_not_supported, ...
    └── UpstreamError         502  upstream_error (a provider failed or answered nonsense)
        ├── UpstreamThrottled 503  upstream_throttled (carries retry_after seconds)
        ├── UpstreamTimeout   504  upstream_timeout
        └── UpstreamAuthError 502  upstream_unauthorized (refresh failed: needs re-auth)
    DatabaseUnavailable       503  database_unavailable (the store cannot be opened)

    CursorExpired             not an HTTP error: the sync driver resyncs in full
"""

from __future__ import annotations


class CalproxyError(Exception):
    status = 500
    default_code = "internal_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class BadRequest(CalproxyError):
    status = 400
    default_code = "bad_request"


class Unauthorized(CalproxyError):
    status = 401
    default_code = "unauthorized"


class Forbidden(CalproxyError):
    status = 403
    default_code = "forbidden"


class NotFound(CalproxyError):
    status = 404
    default_code = "not_found"


class Conflict(CalproxyError):
    status = 409
    default_code = "conflict"


class Unprocessable(CalproxyError):
    status = 422
    default_code = "unprocessable"


class UpstreamError(CalproxyError):
    status = 502
    default_code = "upstream_error"


class UpstreamThrottled(UpstreamError):
    status = 503
    default_code = "upstream_throttled"

    def __init__(self, message: str, retry_after: float = 30.0, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = max(1, int(retry_after + 0.999))


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "upstream_timeout"


class UpstreamAuthError(UpstreamError):
    """The provider refused our credentials even after a refresh: the user must reconnect."""

    default_code = "upstream_unauthorized"


class UpstreamNotFound(UpstreamError):
    """The provider says the item does not exist (mapped to 404 by the handlers)."""

    status = 404
    default_code = "not_found"


class DatabaseUnavailable(CalproxyError):
    """The database at ``CALPROXY_DATABASE_URL`` cannot be reached or opened."""

    status = 503
    default_code = "database_unavailable"


class CursorExpired(Exception):
    """A provider's sync cursor (delta link, sync token, sync state) is no longer valid."""
