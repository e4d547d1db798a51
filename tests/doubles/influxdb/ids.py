"""Resource IDs, API tokens and time formats as InfluxDB 2 produces and accepts them."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from .errors import invalid

ID_LENGTH = 16
_TOKEN_BYTES = 64
_HEX = frozenset("0123456789abcdefABCDEF")
_ZERO_ID = "0" * ID_LENGTH


def new_id() -> str:
    """16 hex digits, never all zeros (platform.ID)."""
    while (value := secrets.token_hex(ID_LENGTH // 2)) == _ZERO_ID:
        pass
    return value


def new_token() -> str:
    """64 random bytes, URL-safe base64: the shape of the server's generated tokens."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_TOKEN_BYTES)).decode("ascii")


def is_id(text: str) -> bool:
    return len(text) == ID_LENGTH and set(text) <= _HEX and text != _ZERO_ID


def parse_id(text: str) -> str:
    """The ID, or the server's error for a malformed one."""
    if len(text) != ID_LENGTH:
        raise invalid("id must have a length of 16 bytes")
    if not is_id(text):
        raise invalid("invalid ID")
    return text.lower()


def optional_id(text: str | None) -> str | None:
    return parse_id(text) if text else None


def rfc3339(time_ns: int) -> str:
    """Go's time.RFC3339Nano rendering in UTC (trailing zeros of the fraction dropped)."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f".{nanos:09d}".rstrip("0") if nanos else ""
    return f"{stamp}{fraction}Z"


def go_duration(nanos: int) -> str:
    """Go's time.Duration.String() for non-negative durations, e.g. 1m2.5s or 350ms."""
    if nanos < 1_000:
        return f"{nanos}ns" if nanos else "0s"
    if nanos < 1_000_000:
        return f"{_decimal(nanos, 1_000)}\u00b5s"
    if nanos < 1_000_000_000:
        return f"{_decimal(nanos, 1_000_000)}ms"
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = f"{_decimal(rest, 1_000_000_000)}s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    return f"{minutes}m{seconds}" if minutes else seconds


def _decimal(value: int, unit: int) -> str:
    whole, fraction = divmod(value, unit)
    digits = len(str(unit)) - 1
    return f"{whole}.{fraction:0{digits}d}".rstrip("0").rstrip(".")
