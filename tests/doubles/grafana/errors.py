"""API errors in Grafana's shapes, which vary by endpoint: mostly {"message": ...}, some with a
"status" word next to it ({"status": "version-mismatch", "message": ...}), and errutil's
{"message", "messageId", "statusCode", "traceID"} for authentication failures."""

from __future__ import annotations

from typing import Any

BAD_REQUEST_DATA = "bad request data"


class ApiError(Exception):
    """An error response; `extra` adds properties next to the message."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {**self.extra, "message": self.message}


def bad_request(message: str = BAD_REQUEST_DATA) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def with_status(status: int, word: str, message: str) -> ApiError:
    """An error whose body carries a status word, as DashboardErr.Body() renders it."""
    return ApiError(status, message, extra={"status": word})


def errutil(status: int, message_id: str, message: str) -> ApiError:
    """An error rendered by Grafana's errutil package (pkg/apimachinery/errutil)."""
    extra = {"messageId": message_id, "statusCode": status, "traceID": ""}
    return ApiError(status, message, extra=extra)
