"""What a source returns: points without a time (the cycle stamps them all alike)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sparkjob.lineprotocol import line  # plain Python: no Spark import

Value = int | float | str | bool


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


class SourceError(Exception):
    """A source is down or answered something unusable; the message says which and why.

    response_ms is set when the source did answer (a bad status, garbage), else None.
    """

    def __init__(self, message: str, response_ms: float | None = None) -> None:
        super().__init__(message)
        self.response_ms = response_ms


def to_lines(points: Iterable[Point], time_ns: int) -> list[str]:
    """Line protocol; points whose fields are all None are left out."""
    out = []
    for point in points:
        text = line(point.measurement, point.tags, point.fields, time_ns)
        if text is not None:
            out.append(text)
    return out
