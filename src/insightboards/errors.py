"""One error hierarchy; the HTTP layer renders each as RFC 9457 problem details."""

from typing import Any


class InsightboardsError(Exception):
    status_code = 500
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers


class BadRequest(InsightboardsError):
    status_code = 400
    title = "Bad Request"


class Unauthorized(InsightboardsError):
    status_code = 401
    title = "Unauthorized"


class PaymentRequired(InsightboardsError):
    status_code = 402
    title = "Payment Required"


class Forbidden(InsightboardsError):
    status_code = 403
    title = "Forbidden"


class NotFound(InsightboardsError):
    status_code = 404
    title = "Not Found"


class Conflict(InsightboardsError):
    status_code = 409
    title = "Conflict"


class PreconditionFailed(InsightboardsError):
    status_code = 412
    title = "Precondition Failed"


class ContentTooLarge(InsightboardsError):
    status_code = 413
    title = "Content Too Large"


class TooManyRequests(InsightboardsError):
    status_code = 429
    title = "Too Many Requests"


class ServiceUnavailable(InsightboardsError):
    status_code = 503
    title = "Service Unavailable"
