"""Validation of source rows against a dataset spec, and the JSON messages sent to Kafka."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote
from typing import Any

from streamlab.specs import DatasetSpec, TimestampSpec

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class RowError(ValueError):
    """A row does not match its spec; the message is the dead-letter reason."""


@dataclass(frozen=True)
class Row:
    """A validated row: typed values in spec order, and its original time if it has one."""

    key: str | None
    tags: dict[str, str]
    fields: dict[str, Any]
    original_time: datetime | None


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        return int(value)
    return int(str(value).strip())


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a boolean (true/false)")


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "float": _to_float,
    "int": _to_int,
    "bool": _to_bool,
    "string": str,
}


def parse_time(value: Any, spec: TimestampSpec) -> datetime:
    """The original timestamp as an aware UTC datetime; naive times are taken as UTC."""
    fmt = spec.format
    if fmt in ("epoch_s", "epoch_ms"):
        seconds = _to_float(value) / (1000 if fmt == "epoch_ms" else 1)
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip()
    parsed = datetime.fromisoformat(text) if fmt == "iso8601" else datetime.strptime(text, fmt)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class RowParser:
    """Turns a raw source row (a mapping of column to value) into a Row, or raises RowError."""

    def __init__(self, spec: DatasetSpec) -> None:
        self.spec = spec
        self._fields = [(f.name, CONVERTERS[f.type], f.optional) for f in spec.fields]

    def parse(self, raw: Mapping[str, Any]) -> Row:
        tags = {tag: self._tag(raw, tag) for tag in self.spec.tags}
        fields = {}
        for name, convert, optional in self._fields:
            value = raw.get(name)
            if _missing(value):
                if optional:
                    continue
                raise RowError(f"field '{name}' is missing")
            try:
                fields[name] = convert(value)
            except (TypeError, ValueError) as error:
                raise RowError(f"field '{name}'={value!r}: {error}") from None
        key = None
        if self.spec.key is not None:
            key = str(tags[self.spec.key] if self.spec.key in tags else fields.get(self.spec.key))
        return Row(key, tags, fields, self._time(raw))

    def _tag(self, raw: Mapping[str, Any], tag: str) -> str:
        value = raw.get(tag)
        if _missing(value):
            raise RowError(f"tag '{tag}' is missing")
        return str(value)

    def _time(self, raw: Mapping[str, Any]) -> datetime | None:
        ts = self.spec.timestamp
        if ts is None:
            return None
        value = raw.get(ts.column)
        if _missing(value):
            raise RowError(f"timestamp column '{ts.column}' is missing")
        try:
            return parse_time(value, ts)
        except (TypeError, ValueError, OverflowError, OSError):
            raise RowError(
                f"timestamp '{ts.column}'={value!r} does not match format {ts.format!r}"
            ) from None


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds and a Z, the one time format of every message."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


class EpochFormatter:
    """iso() for epoch seconds, formatting the date and time part once per second."""

    def __init__(self) -> None:
        self._second, self._prefix = -1, ""

    def __call__(self, epoch: float) -> str:
        second, micros = divmod(round(epoch * 1_000_000), 1_000_000)
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC)
            self._second, self._prefix = second, moment.isoformat()[:19]
        return f"{self._prefix}.{micros:06d}Z"


def _json_value(value: Any) -> str:
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float.__repr__(value)  # what json.dumps writes; rows hold finite floats only
    return str(value)


def encode_row(row: Row, seq: int, ts: str, sent_ms: int) -> bytes:
    """The row's JSON message, written directly: this runs once per row at full rate."""
    parts = [f'{{"ts":"{ts}","seq":{seq},"sent_ms":{sent_ms}']
    if row.original_time is not None:
        parts.append(f',"original_ts":"{iso(row.original_time)}"')
    parts.extend(f",{_quote(k)}:{_quote(v)}" for k, v in row.tags.items())
    parts.extend(f",{_quote(k)}:{_json_value(v)}" for k, v in row.fields.items())
    parts.append("}")
    return "".join(parts).encode()


def encode_deadletter(dataset: str, raw: Mapping[str, Any], reason: str, at: datetime) -> bytes:
    message = {
        "dataset": dataset,
        "reason": reason,
        "record": {
            str(k): v if isinstance(v, str | int | float | bool) or v is None else str(v)
            for k, v in raw.items()
        },
        "stage": "streamer",
        "at": iso(at),
    }
    return json.dumps(message, separators=(",", ":"), allow_nan=False, default=str).encode()
