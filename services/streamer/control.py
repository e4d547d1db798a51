"""Validation of control requests. Anything wrong raises ApiError and changes nothing."""

from __future__ import annotations

import math
from typing import Any

from .config import StreamerConfig
from .pacing import RATE_MODES, Rate
from .stream import TIMESTAMP_MODES


class ApiError(Exception):
    """A client error: HTTP status, a short code, and a message that says what to send."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def as_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "status": self.status}


def _number(body: dict[str, Any], key: str) -> float | int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, "invalid_rate", f"'{key}' must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(400, "invalid_rate", f"'{key}' must be a finite number, got {value!r}")
    if value <= 0:
        raise ApiError(400, "invalid_rate", f"'{key}' must be greater than 0, got {value!r}")
    return value


def _limit(config: StreamerConfig, mode: str) -> float:
    return {
        "rows_per_second": config.max_rate,
        "interval_s": config.max_interval_s,
        "speedup": config.max_speedup,
    }[mode]


def parse_rate(body: Any, config: StreamerConfig, has_timestamps: bool) -> tuple[Rate, str | None]:
    """{"rows_per_second": 200} | {"interval_s": 2} | {"speedup": 60}, plus "timestamps"."""
    if not isinstance(body, dict):
        raise ApiError(
            400, "invalid_body", 'the body must be a JSON object like {"rows_per_second": 100}'
        )
    unknown = sorted(set(body) - {*RATE_MODES, "timestamps"})
    if unknown:
        raise ApiError(
            400, "unknown_key", f"unknown key '{unknown[0]}': use one of {', '.join(RATE_MODES)}"
        )
    modes = [m for m in RATE_MODES if m in body]
    if len(modes) != 1:
        raise ApiError(400, "invalid_rate", f"give exactly one of {', '.join(RATE_MODES)}")
    mode = modes[0]
    value = _number(body, mode)
    limit = _limit(config, mode)
    if value > limit:
        raise ApiError(400, "rate_too_high", f"'{mode}' must be at most {limit:g}, got {value!r}")
    if mode == "speedup" and not has_timestamps:
        raise ApiError(400, "no_timestamps", "this dataset has no timestamp column to speed up")
    return Rate(mode, float(value)), _timestamps(body, has_timestamps)


def _timestamps(body: dict[str, Any], has_timestamps: bool) -> str | None:
    mode = body.get("timestamps")
    if mode is None:
        return None
    if mode not in TIMESTAMP_MODES:
        raise ApiError(
            400, "invalid_timestamps", f"'timestamps' must be one of {', '.join(TIMESTAMP_MODES)}"
        )
    if mode != "send_time" and not has_timestamps:
        raise ApiError(400, "no_timestamps", "this dataset has no original timestamps")
    if mode == "scaled" and "speedup" not in body:
        raise ApiError(400, "invalid_timestamps", "'scaled' timestamps need a 'speedup' factor")
    return mode
