"""Sources of raw rows: CSV replay, HTTP API polling and a synthetic generator.

Every source offers `next_row()`, which returns the next raw row (a dict), or None when
nothing is available right now, and `finished` once it will never return a row again.
None never blocks for long, so the stream stays responsive to pause and rate changes.
"""

from __future__ import annotations

import csv
import math
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import requests

from streamlab.specs import CsvSource, DatasetSpec, Generator, HttpSource, SyntheticSource


class SourceError(RuntimeError):
    """The source cannot deliver right now (e.g. the API is down); the stream retries."""


class RowSource(Protocol):
    finished: bool
    looped: int

    def next_row(self) -> dict[str, Any] | None: ...

    def rewind(self) -> None: ...

    def wait_hint(self) -> float:
        """Seconds until this source may have a row again, when next_row returned None."""
        ...


class CsvRows:
    def __init__(self, config: CsvSource) -> None:
        self.config = config
        self.finished = False
        self.looped = 0
        self._rows: Iterator[dict[str, Any]] = iter(())
        self.rewind()

    def rewind(self) -> None:
        self.finished = False
        self._rows = self._read()

    def _read(self) -> Iterator[dict[str, Any]]:
        with open(self.config.path, newline="") as handle:
            yield from csv.DictReader(handle)

    def next_row(self) -> dict[str, Any] | None:
        if self.finished:
            return None
        row = next(self._rows, None)
        if row is None and self.config.at_end == "loop":
            self.looped += 1
            self._rows = self._read()
            row = next(self._rows, None)
        if row is None:
            self.finished = True
        return row

    def wait_hint(self) -> float:
        return 0.5


def records_at(document: Any, path: str) -> list[Any]:
    """The list found at a dotted path ('data.stations'); '' means the document itself."""
    node = document
    for part in filter(None, path.split(".")):
        if not isinstance(node, dict) or part not in node:
            raise SourceError(f"records_path '{path}': key '{part}' not found in the response")
        node = node[part]
    if not isinstance(node, list):
        raise SourceError(f"records_path '{path}' does not lead to a list of records")
    return node


class HttpRows:
    """Polls a JSON API every poll_interval_s and hands out the records it has not sent."""

    def __init__(self, config: HttpSource, spec: DatasetSpec, session=None) -> None:
        self.config, self.spec = config, spec
        self.session = session or requests.Session()
        self.finished = False
        self.looped = 0
        self._buffer: list[dict[str, Any]] = []
        self._next_poll = 0.0
        self._seen: dict[Any, Any] = {}

    def rewind(self) -> None:
        self._buffer.clear()
        self._seen.clear()
        self._next_poll = 0.0

    def next_row(self) -> dict[str, Any] | None:
        if not self._buffer and time.monotonic() >= self._next_poll:
            self._next_poll = time.monotonic() + self.config.poll_interval_s
            self._buffer = self._poll()
        return self._buffer.pop(0) if self._buffer else None

    def wait_hint(self) -> float:
        return max(0.0, min(self._next_poll - time.monotonic(), 0.5))

    def _poll(self) -> list[dict[str, Any]]:
        try:
            response = self.session.get(self.config.url, timeout=self.config.timeout_s)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise SourceError(f"GET {self.config.url} failed: {error}") from None
        records = [r for r in records_at(document, self.config.records_path) if self._keep(r)]
        return [r if isinstance(r, dict) else {"value": r} for r in records]

    def _keep(self, record: Any) -> bool:
        if not isinstance(record, dict):
            return True  # malformed: let validation dead-letter it
        if any(record.get(k) != v for k, v in self.config.filter.items()):
            return False
        if not self.config.dedupe:
            return True
        identity = self._identity(record)
        version = self._version(record)
        if self._seen.get(identity) == version:
            return False
        self._seen[identity] = version
        return True

    def _identity(self, record: dict[str, Any]) -> Any:
        key = self.spec.key
        return record.get(key) if key else tuple(sorted(map(str, record.items())))

    def _version(self, record: dict[str, Any]) -> Any:
        ts = self.spec.timestamp
        return record.get(ts.column) if ts else tuple(sorted(map(str, record.items())))


def _generator(gen: Generator, rng: random.Random) -> Callable[[float], Any]:
    p = gen.params
    if gen.kind == "random_walk":
        state = [float(p.get("start", 0.0))]

        def walk(_: float) -> float:
            state[0] += rng.uniform(-1, 1) * float(p.get("step", 1.0))
            return round(state[0], 4)

        return walk
    if gen.kind == "uniform":
        low, high = float(p.get("low", 0.0)), float(p.get("high", 1.0))
        return lambda _: round(rng.uniform(low, high), 4)
    if gen.kind == "sine":
        mean, amp = float(p.get("mean", 0.0)), float(p.get("amplitude", 1.0))
        period = float(p.get("period_s", 60.0))
        return lambda t: round(mean + amp * math.sin(2 * math.pi * t / period), 4)
    if gen.kind == "choice":
        values = list(p.get("values") or [0])
        return lambda _: rng.choice(values)
    counter = [int(p.get("start", 0)) - 1]

    def count(_: float) -> int:
        counter[0] += 1
        return counter[0]

    return count


class SyntheticRows:
    """Rows made from the spec's generators, cycling through the tag values."""

    def __init__(self, config: SyntheticSource) -> None:
        self.config = config
        self.finished = False
        self.looped = 0
        self.rewind()

    def rewind(self) -> None:
        rng = random.Random(self.config.seed)
        self._produced = 0
        self.finished = False
        self._fields = {n: _generator(g, rng) for n, g in self.config.generators.items()}
        self._tags = list(self.config.tag_values.items())

    def next_row(self) -> dict[str, Any] | None:
        if self.config.rows is not None and self._produced >= self.config.rows:
            self.finished = True
            return None
        n, now = self._produced, time.time()
        self._produced += 1
        row: dict[str, Any] = {tag: values[n % len(values)] for tag, values in self._tags}
        row.update({name: make(now) for name, make in self._fields.items()})
        return row

    def wait_hint(self) -> float:
        return 0.5


def open_source(spec: DatasetSpec) -> RowSource:
    if isinstance(spec.source, CsvSource):
        return CsvRows(spec.source)
    if isinstance(spec.source, HttpSource):
        return HttpRows(spec.source, spec)
    return SyntheticRows(spec.source)
