"""Typed reads of JSON request bodies. Grafana binds bodies to Go structs, so a property of
the wrong JSON type fails the whole request with 400 "bad request data"."""

from __future__ import annotations

from typing import Any

from . import errors


def string(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise errors.bad_request()
    return value


def boolean(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise errors.bad_request()
    return value


def integer(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise errors.bad_request()
    return int(value)


def obj(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise errors.bad_request()
    return value


def string_map(body: dict[str, Any], name: str) -> dict[str, str]:
    value = obj(body, name) or {}
    if not all(isinstance(v, str) for v in value.values()):
        raise errors.bad_request()
    return value


def number(value: Any) -> int | None:
    """A JSON number as simplejson's Float64() reads it (truncated), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)
