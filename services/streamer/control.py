"""Validation of control requests through their pydantic models. Anything wrong raises
ApiError and changes nothing."""

from __future__ import annotations

import reprlib
from typing import Any

from pydantic import RootModel, ValidationError
from pydantic_core import ErrorDetails

from streamlab.specs import RATE_MODES

from .pacing import Rate

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlong = 40
RATE_KEYS = (*RATE_MODES, "timestamps")


class ApiError(Exception):
    """A client error: HTTP status, a short code, and a message that says what to send."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def as_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "status": self.status}


def parse_rate(
    data: bytes, model: type[RootModel], has_timestamps: bool
) -> tuple[Rate, str | None]:
    """{"rows_per_second": 200} | {"interval_s": 2} | {"speedup": 60}, plus "timestamps".

    A request the model accepts but the dataset cannot follow (no timestamp column) is a
    409: the same body suits another stream."""
    try:
        body = model.model_validate_json(data)
    except ValidationError as error:
        raise rate_error(error.errors()[0]) from None
    rate, timestamps = body.rate(), body.timestamps
    if not has_timestamps and rate.mode == "speedup":
        raise ApiError(409, "no_timestamps", "this dataset has no timestamp column to speed up")
    if not has_timestamps and timestamps not in (None, "send_time"):
        raise ApiError(409, "no_timestamps", "this dataset has no original timestamps")
    return rate, timestamps


def rate_error(error: ErrorDetails) -> ApiError:
    """The first thing pydantic found wrong, said as the API says it."""
    kind, value = error["type"], error["input"]
    field = str(error["loc"][-1]) if error["loc"] else ""
    said = error["msg"].replace("Input should be", "must be", 1)
    if kind == "json_invalid":
        return ApiError(400, "malformed_json", f"the body is not valid JSON: {said}")
    if kind == "rate_mode":
        return _mode_error(value)
    if kind == "extra_forbidden":
        keys = ", ".join(RATE_KEYS)
        return ApiError(400, "unknown_key", f"unknown key '{field}': the keys are {keys}")
    if field == "timestamps":
        hint = " ('scaled' comes with a speedup)" if value == "scaled" else ""
        return ApiError(400, "invalid_timestamps", f"'timestamps' {said}{hint}, got {shown(value)}")
    code = "rate_too_high" if kind == "less_than_equal" else "invalid_rate"
    return ApiError(400, code, f"'{field}' {said}, got {shown(value)}")


def shown(value: Any) -> str:
    """A value as the client sent it, cut short (a body may hold a 60 kB string)."""
    return _SHOWN.repr(value)


def _mode_error(body: Any) -> ApiError:
    modes = ", ".join(RATE_MODES)
    if not isinstance(body, dict):
        return ApiError(
            400, "invalid_body", 'the body must be a JSON object like {"rows_per_second": 100}'
        )
    unknown = sorted(set(body) - set(RATE_KEYS))
    if unknown:
        return ApiError(400, "unknown_key", f"unknown key '{unknown[0]}': use one of {modes}")
    return ApiError(400, "invalid_rate", f"give exactly one of {modes}")
