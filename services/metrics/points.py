"""What a source returns: points without a time (the cycle stamps them all alike)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from influxdb_client import Point as InfluxPoint

from streamlab.influx import point

Value = int | float | str | bool
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")


@dataclass(frozen=True)
class Point:
    measurement: str
    tags: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, Value | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Poll:
    """One source's answer: its points and how long it took to give them."""

    points: list[Point]
    response_ms: float


class MetricsError(Exception):
    """An expected failure, whose message is fit for the log as it is."""


class SourceError(MetricsError):
    """A source is down or answered something unusable; the message says which and why.

    response_ms is set when the source did answer (a bad status, garbage), else None.
    """

    def __init__(self, message: str, response_ms: float | None = None) -> None:
        super().__init__(message)
        self.response_ms = response_ms


def os_reason(text: str) -> str | None:
    """The OS's reason inside a client library's long message ("[Errno 111] Connection
    refused"), if there is one."""
    found = _ERRNO.search(text)
    return found.group(0) if found else None


def to_influx(points: Iterable[Point], time_ns: int) -> list[InfluxPoint]:
    """InfluxDB points, all at time_ns; points whose fields are all None are left out."""
    built = (point(p.measurement, p.tags, p.fields, time_ns) for p in points)
    return [b for b in built if b is not None]
