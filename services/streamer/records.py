"""Validation of source rows against a dataset spec, and the JSON messages sent to Kafka."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote
from typing import Any

import jmespath

from streamlab.specs import CsvSource, DatasetSpec, Extract, TimestampSpec

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
    source: str | None = None  # the record as received, as JSON (spec keep_source)


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


Getter = Callable[[Mapping[str, Any]], Any]


def _getter(name: str, extract: Extract | None) -> tuple[Getter, str]:
    """How a column's value is read from a record, and what to say when it finds nothing."""
    if extract is not None and extract.path is not None:
        expression = jmespath.compile(extract.path)
        return expression.search, f": path {extract.path!r} found nothing"
    column = extract.source if extract is not None and extract.source else name
    if column != name:
        return (lambda record: record.get(column)), f" (CSV column {column!r})"
    return (lambda record: record.get(column)), ""


class RecordFilter:
    """The spec's filter: a mapping (each key equals its value) or a JMESPath boolean."""

    def __init__(self, rule: Mapping[str, Any] | str) -> None:
        self._expression = jmespath.compile(rule) if isinstance(rule, str) else None
        self._equal = dict(rule) if isinstance(rule, Mapping) else {}

    def keeps(self, record: Any) -> bool:
        if not isinstance(record, Mapping):
            return True  # malformed: validation dead-letters it
        if self._expression is not None:
            return self._expression.search(record) is True
        return all(record.get(k) == v for k, v in self._equal.items())


def _with_marks(convert: Callable[[Any], Any], source: Any) -> Callable[[Any], Any]:
    """A number converter for a CSV's decimal and thousands marks (`1.234,5` in French
    data); other sources' numbers are JSON numbers or text with a decimal point."""
    if not isinstance(source, CsvSource) or (source.decimal == "." and not source.thousands):
        return convert
    thousands, decimal = source.thousands or "", source.decimal

    def read(value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(thousands, "") if thousands else value
            value = value.replace(decimal, ".")
        return convert(value)

    return read


class RowParser:
    """Turns a raw record (a flat CSV row or a nested JSON object) into a Row, reading each
    column where the spec says (a CSV column, a JMESPath path, or its own name), or raises
    RowError."""

    def __init__(self, spec: DatasetSpec, max_source_bytes: int = 65536) -> None:
        self.spec = spec
        self.max_source_bytes = max_source_bytes
        columns = [*spec.tags, *spec.field_names]
        if spec.timestamp is not None:
            columns.append(spec.timestamp.column)
        self._get = {name: _getter(name, spec.extracts.get(name)) for name in columns}
        self._fields = [
            (f.name, _with_marks(CONVERTERS[f.type], spec.source), f.optional)
            if f.type in ("float", "int")
            else (f.name, CONVERTERS[f.type], f.optional)
            for f in spec.fields
        ]
        self._key_path = jmespath.compile(spec.key_path) if spec.key_path else None

    def parse(self, raw: Any) -> Row:
        if not isinstance(raw, Mapping):
            raise RowError("the record is not a JSON object")
        tags = {tag: self._tag(raw, tag) for tag in self.spec.tags}
        fields = {}
        for name, convert, optional in self._fields:
            value = self._value(raw, name)
            if _missing(value):
                if optional:
                    continue
                raise RowError(f"field '{name}' is missing{self._get[name][1]}")
            try:
                fields[name] = convert(value)
            except (TypeError, ValueError) as error:
                raise RowError(f"field '{name}'={value!r}: {error}") from None
        return Row(self._key(raw, tags, fields), tags, fields, self._time(raw), self._source(raw))

    def _value(self, raw: Mapping[str, Any], name: str) -> Any:
        return self._get[name][0](raw)

    def _key(
        self, raw: Mapping[str, Any], tags: dict[str, str], fields: dict[str, Any]
    ) -> str | None:
        if self._key_path is not None:
            found = self._key_path.search(raw)
            if _missing(found):
                raise RowError(f"the key is missing: path {self.spec.key_path!r} found nothing")
            return str(found)
        if self.spec.key is None:
            return None
        return str(tags[self.spec.key] if self.spec.key in tags else fields.get(self.spec.key))

    def _source(self, raw: Mapping[str, Any]) -> str | None:
        if not self.spec.keep_source:
            return None
        text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False, default=str)
        size = len(text.encode())
        if size > self.max_source_bytes:
            raise RowError(
                f"the record is {size} bytes as JSON, over keep_source's limit of "
                f"{self.max_source_bytes}: raise STREAMER_MAX_SOURCE_BYTES"
            )
        return text

    def _tag(self, raw: Mapping[str, Any], tag: str) -> str:
        value = self._value(raw, tag)
        if _missing(value):
            raise RowError(f"tag '{tag}' is missing{self._get[tag][1]}")
        return str(value)

    def _time(self, raw: Mapping[str, Any]) -> datetime | None:
        ts = self.spec.timestamp
        if ts is None:
            return None
        value = self._value(raw, ts.column)
        if _missing(value):
            raise RowError(f"timestamp column '{ts.column}' is missing{self._get[ts.column][1]}")
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
    if row.source is not None:
        parts.append(f',"source":{_quote(row.source)}')
    parts.append("}")
    return "".join(parts).encode()


def encode_deadletter(dataset: str, raw: Any, reason: str, at: datetime) -> bytes:
    """The record as it came (nested JSON stays nested; anything else becomes text)."""
    message = {
        "dataset": dataset,
        "reason": reason,
        "record": raw,
        "stage": "streamer",
        "at": iso(at),
    }
    return json.dumps(message, separators=(",", ":"), allow_nan=False, default=str).encode()
