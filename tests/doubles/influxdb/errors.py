"""API errors in InfluxDB 2's shape: {"code": ..., "message": ...} plus the status it maps to.

Codes and the code-to-status table are the server's (kit/platform/errors and
kit/transport/http): "conflict" is 422, "invalid" is 400, "unauthorized" 401, ...
"""

from __future__ import annotations

from typing import Any

INTERNAL = "internal error"
NOT_IMPLEMENTED = "not implemented"
NOT_FOUND = "not found"
CONFLICT = "conflict"
INVALID = "invalid"
UNPROCESSABLE = "unprocessable entity"
EMPTY_VALUE = "empty value"
FORBIDDEN = "forbidden"
UNAUTHORIZED = "unauthorized"
METHOD_NOT_ALLOWED = "method not allowed"
TOO_LARGE = "request too large"

STATUS_BY_CODE = {
    INTERNAL: 500,
    NOT_IMPLEMENTED: 501,
    NOT_FOUND: 404,
    CONFLICT: 422,
    INVALID: 400,
    UNPROCESSABLE: 422,
    EMPTY_VALUE: 400,
    FORBIDDEN: 403,
    UNAUTHORIZED: 401,
    METHOD_NOT_ALLOWED: 405,
    TOO_LARGE: 413,
}

UNAUTHORIZED_ACCESS = "unauthorized access"


class ApiError(Exception):
    """An error response; `extra` adds properties next to code and message."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def status(self) -> int:
        return STATUS_BY_CODE.get(self.code, 500)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def not_found(message: str) -> ApiError:
    return ApiError(NOT_FOUND, message)


def invalid(message: str) -> ApiError:
    return ApiError(INVALID, message)


def unauthorized(message: str = UNAUTHORIZED_ACCESS) -> ApiError:
    return ApiError(UNAUTHORIZED, message)
