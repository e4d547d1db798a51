"""Uniform write bodies, read column by column.

A batching client sends thousands of lines of one shape: the same measurement, tag keys,
field keys and field types in the same order, every value plain (what the fast path of
lineprotocol.py reads). Such a body is checked in one regular-expression scan built for
its shape, and its values are converted a column at a time, instead of line by line.

The shape comes from the body's first line as the fast path reads it; the body is uniform
only when every line matches the shape's pattern whole and every value is in range. Any
other body (another shape on some line, a blank line or comment, an escape, a value out of
range) is left to lineprotocol.parse, which reads it, and reports its errors, as before:
both readings give the same points (tests/unit/test_influxdb_double_uniform.py).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .lineprotocol import (
    _FAST_FIELD,
    _FAST_LINE,
    _FLOAT,
    _INT64_MAX,
    _INT64_MIN,
    _PLAIN,
    _UINT64_MAX,
    BOOLEAN,
    FLOAT,
    INTEGER,
    MAX_NANO_TIME,
    MIN_NANO_TIME,
    PRECISION_NS,
    STRING,
    UNSIGNED,
    Field,
    LineSyntaxError,
    Point,
    _fast_point,
    _NotPlain,
)

_BOOLEANS = {
    "t": True, "T": True, "true": True, "True": True, "TRUE": True,
    "f": False, "F": False, "false": False, "False": False, "FALSE": False,
}  # fmt: skip
# One capture group per value, each as the fast path accepts it for that type.
_VALUE_PATTERNS = {
    FLOAT: f"({_FLOAT.pattern})",
    INTEGER: r"(-?[0-9]+)i",
    UNSIGNED: r"([0-9]+)u",
    BOOLEAN: "(" + "|".join(sorted(_BOOLEANS, key=len, reverse=True)) + ")",
    STRING: r'"([^"\\\n]*)"',
}
_RANGES = {INTEGER: (_INT64_MIN, _INT64_MAX), UNSIGNED: (0, _UINT64_MAX)}


@dataclass(frozen=True)
class Shape:
    measurement: str
    tag_keys: tuple[str, ...]  # in line order
    field_keys: tuple[str, ...]  # in line order
    field_kinds: tuple[str, ...]

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        tags = "".join(f",{re.escape(key)}=({_PLAIN})" for key in self.tag_keys)
        fields = ",".join(
            f"{re.escape(key)}={_VALUE_PATTERNS[kind]}"
            for key, kind in zip(self.field_keys, self.field_kinds, strict=True)
        )
        return re.compile(rf"^{re.escape(self.measurement)}{tags} {fields} (-?[0-9]+)$", re.M)

    @functools.cached_property
    def sorted_tags(self) -> tuple[tuple[str, int], ...]:
        """(key, column) of each tag in the order a point keeps its tags (sorted by key)."""
        return tuple(sorted((key, i) for i, key in enumerate(self.tag_keys)))


# What identifies a point: measurement, sorted tags, time (ns).
PointKey = tuple[str, tuple[tuple[str, str], ...], int]


@dataclass(frozen=True)
class Columns:
    """A uniform body's values: one tuple or list per tag, per field, and the times (ns)."""

    shape: Shape
    tag_values: tuple[tuple[str, ...], ...]
    field_values: tuple[list, ...]
    times: list[int]

    def __len__(self) -> int:
        return len(self.times)

    def tags(self) -> Iterator[tuple[tuple[str, str], ...]]:
        """Each line's tags as a point keeps them: sorted (key, value) pairs."""
        if not self.shape.tag_keys:
            return itertools.repeat((), len(self.times))
        keyed = [
            zip(itertools.repeat(key), self.tag_values[i]) for key, i in self.shape.sorted_tags
        ]
        return zip(*keyed, strict=True)

    def keys(self) -> Iterator[PointKey]:
        return zip(itertools.repeat(self.shape.measurement), self.tags(), self.times)

    def sample(self) -> Point:
        """The first line's point: its names and types are every line's."""
        shape = self.shape
        tags = tuple((key, self.tag_values[i][0]) for key, i in shape.sorted_tags)
        fields = {
            key: Field(kind, values[0])
            for key, kind, values in zip(
                shape.field_keys, shape.field_kinds, self.field_values, strict=True
            )
        }
        return Point(shape.measurement, tags, fields, self.times[0])

    def points(self) -> list[Point]:
        shape = self.shape
        fields = [
            [Field(kind, value) for value in values]
            for kind, values in zip(shape.field_kinds, self.field_values, strict=True)
        ]
        return [
            Point(shape.measurement, tags, dict(zip(shape.field_keys, row, strict=True)), time_ns)
            for tags, row, time_ns in zip(
                self.tags(), zip(*fields, strict=True), self.times, strict=True
            )
        ]


def read_uniform(body: str, precision: str) -> Columns | None:
    """The body's values when it has several lines, each of the first line's shape; None
    otherwise."""
    text = body.rstrip("\n")
    newline = text.find("\n")
    if newline < 0:  # one line: columns save nothing, and cost more than the fast path
        return None
    shape = _shape_of(text[:newline])
    if shape is None:
        return None
    rows = shape.pattern.findall(text)
    if len(rows) != text.count("\n") + 1:
        return None
    columns = list(zip(*rows, strict=True))  # a field and the time: always two groups or more
    try:
        return _convert(shape, columns, PRECISION_NS[precision])
    except (LineSyntaxError, ValueError):
        return None


def _shape_of(line: str) -> Shape | None:
    match = _FAST_LINE.fullmatch(line)
    if match is None:
        return None
    try:
        point = _fast_point(match, 1)
    except (LineSyntaxError, _NotPlain):
        return None
    tag_text = match.group(2)
    tag_keys = tuple(pair.split("=")[0] for pair in tag_text[1:].split(",")) if tag_text else ()
    if len(_FAST_FIELD.findall(match.group(3))) != len(point.fields):  # a repeated field key
        return None
    return _shape(point.measurement, tag_keys, tuple(point.fields),
                  tuple(f.kind for f in point.fields.values()))  # fmt: skip


@functools.lru_cache(maxsize=256)
def _shape(measurement: str, tag_keys: tuple, field_keys: tuple, field_kinds: tuple) -> Shape:
    return Shape(measurement, tag_keys, field_keys, field_kinds)


def _convert(shape: Shape, columns: list[tuple[str, ...]], multiplier: int) -> Columns:
    """Columns of text to values; raises where the fast path would refuse a value."""
    tag_count = len(shape.tag_keys)
    fields = [
        _values(kind, column)
        for kind, column in zip(shape.field_kinds, columns[tag_count:-1], strict=True)
    ]
    times = list(map(int, columns[-1]))
    if min(times) < _INT64_MIN or max(times) > _INT64_MAX:
        raise LineSyntaxError("timestamp out of range")
    if multiplier != 1:
        times = [value * multiplier for value in times]
    if min(times) < MIN_NANO_TIME or max(times) > MAX_NANO_TIME:
        raise LineSyntaxError("time outside range")
    return Columns(shape, tuple(columns[:tag_count]), tuple(fields), times)


def _values(kind: str, column: tuple[str, ...]) -> list:
    if kind == STRING:
        return list(column)
    if kind == BOOLEAN:
        return [_BOOLEANS[text] for text in column]
    if kind == FLOAT:
        values = list(map(float, column))
        if math.inf in values or -math.inf in values:
            raise LineSyntaxError("invalid float")
        return values
    values = list(map(int, column))
    low, high = _RANGES[kind]
    if min(values) < low or max(values) > high:
        raise LineSyntaxError(f"{kind} out of range")
    return values
