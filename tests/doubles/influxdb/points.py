"""Stored series and the storage engine's write rules.

A point is identified by measurement, tag set and timestamp: writing it again merges the
field sets, newer values winning (line protocol reference, "Duplicate points"). Points the
engine refuses are dropped while the rest of the batch is written, and the write reports a
partial write (tsdb.PartialWriteError): field type conflicts, the reserved "time" key,
points older than the bucket's retention. The double also drops names that begin with an
underscore, which the line protocol reference reserves for the system.

A uniform write (uniform.py: one shape, values in columns) shares its names and types on
every line, so the rules are checked once for the whole write. One that no rule refuses is
kept as it came until a read, or a write point by point to the same bucket, merges it into
the series, in write order: what a read returns does not depend on which path a write took.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .lineprotocol import Field, Point
from .uniform import Columns

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]

RETENTION_REASON = "points beyond retention policy"


@dataclass(frozen=True)
class WriteOutcome:
    written: int
    dropped: int = 0
    reason: str | None = None

    @property
    def partial_write_message(self) -> str:
        return f"partial write: {self.reason} dropped={self.dropped}"


class PointStore:
    """Series per bucket; not locked itself (the Store that owns it holds the lock)."""

    def __init__(self) -> None:
        self._series: dict[str, dict[SeriesKey, dict[int, dict[str, Field]]]] = {}
        # (bucket id, measurement) -> field name -> kind
        self._field_types: dict[tuple[str, str], dict[str, str]] = {}
        # bucket id -> uniform writes accepted whole and not yet merged, oldest first
        self._pending: dict[str, list[Columns]] = {}

    def write_columns(
        self, bucket_id: str, columns: Columns, cutoff_ns: int | None
    ) -> WriteOutcome:
        """A uniform write; one that any rule refuses a point of goes point by point."""
        sample = columns.sample()
        if self._refuses_any(bucket_id, columns, sample, cutoff_ns):
            return self.write(bucket_id, columns.points(), cutoff_ns)
        self._record_types(bucket_id, sample)
        self._pending.setdefault(bucket_id, []).append(columns)
        return WriteOutcome(len(columns))

    def _refuses_any(
        self, bucket_id: str, columns: Columns, sample: Point, cutoff_ns: int | None
    ) -> bool:
        """Whether any rule refuses a point; the sample's names and types are every point's."""
        if cutoff_ns is not None and min(columns.times) < cutoff_ns:
            return True
        if "time" in sample.fields:
            return True
        return bool(_reserved_name(sample) or self._type_conflict(bucket_id, sample))

    def write(self, bucket_id: str, points: Iterable[Point], cutoff_ns: int | None) -> WriteOutcome:
        self._settle(bucket_id)
        written, dropped, beyond_retention, reason = 0, 0, 0, None
        for point in points:
            if cutoff_ns is not None and point.time_ns < cutoff_ns:
                beyond_retention += 1
                continue
            kept = _without_time_field(point)
            refusal = _reserved_name(kept) or self._type_conflict(bucket_id, kept)
            if refusal:
                dropped, reason = dropped + 1, reason or refusal
                continue
            self._store(bucket_id, kept)
            written += 1
        if not reason and beyond_retention:
            return WriteOutcome(written, beyond_retention, RETENTION_REASON)
        return WriteOutcome(written, dropped, reason)

    def _type_conflict(self, bucket_id: str, point: Point) -> str | None:
        known_types = self._field_types.get((bucket_id, point.measurement), {})
        for name, value in point.fields.items():
            known = known_types.get(name)
            if known and known != value.kind:
                return (
                    f'field type conflict: input field "{name}" on measurement '
                    f'"{point.measurement}" is type {value.kind}, already exists as type {known}'
                )
        return None

    def _store(self, bucket_id: str, point: Point) -> None:
        self._record_types(bucket_id, point)
        self._merge(self._series.setdefault(bucket_id, {}), point)

    def _record_types(self, bucket_id: str, point: Point) -> None:
        known_types = self._field_types.setdefault((bucket_id, point.measurement), {})
        for name, value in point.fields.items():
            known_types[name] = value.kind

    @staticmethod
    def _merge(series: dict[SeriesKey, dict[int, dict[str, Field]]], point: Point) -> None:
        times = series.setdefault((point.measurement, point.tags), {})
        times.setdefault(point.time_ns, {}).update(point.fields)

    def _settle(self, bucket_id: str) -> None:
        """Merges the bucket's pending uniform writes into its series, oldest first."""
        pending = self._pending.pop(bucket_id, None)
        if not pending:
            return
        series = self._series.setdefault(bucket_id, {})
        for columns in pending:
            for point in columns.points():
                self._merge(series, point)

    def drop_bucket(self, bucket_id: str) -> None:
        self._pending.pop(bucket_id, None)
        self._series.pop(bucket_id, None)
        for key in [key for key in self._field_types if key[0] == bucket_id]:
            del self._field_types[key]

    def clear(self) -> None:
        self._pending.clear()
        self._series.clear()
        self._field_types.clear()

    def points(self, bucket_id: str, measurement: str | None = None) -> list[dict[str, Any]]:
        """Stored points as plain data, ordered by measurement, tags and time."""
        self._settle(bucket_id)
        series = self._series.get(bucket_id, {})
        return [
            _as_record(key, time_ns, fields)
            for key in sorted(series)
            if measurement is None or key[0] == measurement
            for time_ns, fields in sorted(series[key].items())
        ]


def _without_time_field(point: Point) -> Point:
    """The engine drops a field named "time" (and the point if nothing else is left)."""
    if "time" not in point.fields or len(point.fields) == 1:
        return point
    fields = {name: value for name, value in point.fields.items() if name != "time"}
    return Point(point.measurement, point.tags, fields, point.time_ns)


def _reserved_name(point: Point) -> str | None:
    if not _may_be_reserved(point):
        return None
    measurement = point.measurement
    if "time" in point.fields:
        return f'invalid field name: input field "time" on measurement "{measurement}" is invalid'
    if any(key == "time" for key, _ in point.tags):
        return f'invalid tag key: input tag "time" on measurement "{measurement}" is invalid'
    names = [("measurement", measurement)]
    names += [("tag key", key) for key, _ in point.tags]
    names += [("field key", key) for key in point.fields]
    for kind, name in names:
        if name.startswith("_"):
            return (
                f'invalid {kind} "{name}" on measurement "{measurement}": names beginning '
                "with an underscore are reserved for InfluxDB system use"
            )
    return None


def _may_be_reserved(point: Point) -> bool:
    """A quick look for "time" or a leading underscore; _reserved_name says which."""
    if "time" in point.fields or point.measurement[:1] == "_":
        return True
    for key, _ in point.tags:
        if key == "time" or key[:1] == "_":
            return True
    return any(map(_underscored, point.fields))


_underscored = operator.methodcaller("startswith", "_")


def _as_record(key: SeriesKey, time_ns: int, fields: dict[str, Field]) -> dict[str, Any]:
    measurement, tags = key
    return {
        "measurement": measurement,
        "tags": dict(tags),
        "fields": {name: field.value for name, field in sorted(fields.items())},
        "field_types": {name: field.kind for name, field in sorted(fields.items())},
        "time_ns": time_ns,
    }
