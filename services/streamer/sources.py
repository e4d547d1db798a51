"""Sources of raw records: CSV and JSON Lines replay, HTTP API polling and a synthetic
generator.

Every source offers `next_row()`, which returns the next raw record (a dict; nested for
JSON sources), an Unreadable for a record it could not read (dead-lettered with its
reason), or None when nothing is available right now, and `finished` once it will never
return a row again. None never blocks for long, so the stream stays responsive to pause
and rate changes.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import math
import random
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, Protocol

import jmespath
import pandas as pd
import requests

from streamlab.specs import (
    CsvSource,
    DatasetSpec,
    Generator,
    HttpSource,
    JsonlSource,
    SyntheticSource,
    expand,
)

RETRY_STATUSES = (429, 500, 502, 503, 504)


class SourceError(RuntimeError):
    """The source cannot deliver right now (e.g. the API is down); the stream retries."""


@dataclass(frozen=True)
class Unreadable:
    """A record the source could not read as JSON or reach into: dead-lettered as it is."""

    record: dict[str, Any]
    reason: str


class RowSource(Protocol):
    finished: bool
    looped: int
    replays: bool  # reads the same records again: a restarted streamer can skip what it sent

    def next_row(self) -> dict[str, Any] | None: ...

    def rewind(self) -> None: ...

    def wait_hint(self) -> float:
        """Seconds until this source may have a row again, when next_row returned None."""
        ...


def _open_text(path: Path, compression: str, encoding: str = "utf-8") -> IO[str]:
    """The file as text, decompressed by `compression` or, for infer, by its name."""
    kind = compression
    if kind == "infer":
        suffixes = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
        kind = suffixes.get(path.suffix.lower(), "none")
    if kind == "gzip":
        return gzip.open(path, "rt", encoding=encoding)
    if kind == "bz2":
        return bz2.open(path, "rt", encoding=encoding)
    if kind == "xz":
        return lzma.open(path, "rt", encoding=encoding)
    if kind == "zip":
        archive = zipfile.ZipFile(path)
        return io.TextIOWrapper(archive.open(archive.namelist()[0]), encoding=encoding)
    return open(path, encoding=encoding, newline="")


class _Replay:
    """A file source read record by record, looping or stopping at the end."""

    replays = True

    def __init__(self, at_end: str) -> None:
        self.at_end = at_end
        self.finished = False
        self.looped = 0
        self._upcoming: Iterator[Any] = iter(())
        self.rewind()

    def _read(self) -> Iterator[Any]:
        raise NotImplementedError

    def rewind(self) -> None:
        self.finished = False
        self._upcoming = self._read()

    def next_row(self) -> Any:
        if self.finished:
            return None
        row = next(self._upcoming, None)
        if row is None and self.at_end == "loop":
            self.looped += 1
            self._upcoming = self._read()
            row = next(self._upcoming, None)
        if row is None:
            self.finished = True
        return row

    def wait_hint(self) -> float:
        return 0.5


class CsvRows(_Replay):
    """A CSV file read by pandas in chunks of chunk_rows: memory is bounded by a chunk,
    whatever the file's size. Every value is handed on as the text it is in the file (a
    tag keeps its leading zeros, a dead letter shows what was received); the spec's types
    convert it, with the file's decimal and thousands marks (records.RowParser)."""

    def __init__(self, config: CsvSource) -> None:
        self.config = config
        super().__init__(config.at_end)

    def _read(self) -> Iterator[dict[str, Any]]:
        c = self.config
        chunks = pd.read_csv(
            c.path, sep=c.delimiter, compression=None if c.compression == "none" else c.compression,
            encoding=c.encoding, comment=c.comment, skiprows=c.skiprows,
            na_values=list(c.na_values), keep_default_na=False, dtype=str,
            chunksize=c.chunk_rows,
        )  # fmt: skip
        with chunks as reader:
            for chunk in reader:
                yield from chunk.astype(object).where(chunk.notna(), None).to_dict("records")


class JsonlRows(_Replay):
    """JSON Lines: each line one document; records_path picks its records (a line that is
    no JSON, or whose records_path finds no list, is dead-lettered with the reason)."""

    def __init__(self, config: JsonlSource) -> None:
        self.config = config
        self._records_path = jmespath.compile(config.records_path) if config.records_path else None
        super().__init__(config.at_end)

    def _read(self) -> Iterator[Any]:
        with _open_text(self.config.path, self.config.compression) as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield from self._records(number, line)

    def _records(self, number: int, line: str) -> Iterator[Any]:
        try:
            document = json.loads(line)
        except ValueError as error:
            yield Unreadable(
                {"line": number, "text": line[:1000]}, f"line {number}: not JSON: {error}"
            )
            return
        if self._records_path is None:
            yield document
            return
        found = self._records_path.search(document)
        if not isinstance(found, list):
            reason = f"line {number}: records_path {self.config.records_path!r} found no list"
            yield Unreadable({"line": number, "document": document}, reason)
            return
        yield from found


def records_at(document: Any, path: str) -> list[Any]:
    """The list a JMESPath expression finds in the document; '' means the document itself."""
    node = jmespath.search(path, document) if path else document
    if not isinstance(node, list):
        raise SourceError(f"records_path {path!r} does not lead to a list of records")
    return node


class HttpRows:
    """Polls a JSON API every poll_interval_s and hands out the records it has not sent.

    On 429 and 5xx it backs off: twice the wait each time, from poll_interval_s up to
    backoff_max_s, or what the API's Retry-After asks; `state` says so and when it tries
    again."""

    replays = False  # each poll brings new records

    def __init__(
        self, config: HttpSource, spec: DatasetSpec, env: Mapping[str, str], session=None
    ) -> None:
        self.config, self.spec, self.env = config, spec, env
        self.session = session or requests.Session()
        self.finished = False
        self.looped = 0
        self._buffer: list[Any] = []
        self._next_poll = 0.0
        self._failures = 0
        self._seen: dict[Any, Any] = {}
        self.state: dict[str, Any] = {"state": "polling"}

    def rewind(self) -> None:
        self._buffer.clear()
        self._seen.clear()
        self._next_poll = 0.0

    def next_row(self) -> Any:
        if not self._buffer and time.monotonic() >= self._next_poll:
            self._next_poll = time.monotonic() + self.config.poll_interval_s
            self._buffer = self._poll()  # a failed poll moves _next_poll to its back-off
        return self._buffer.pop(0) if self._buffer else None

    def wait_hint(self) -> float:
        return max(0.0, min(self._next_poll - time.monotonic(), 0.5))

    def headers(self) -> dict[str, str]:
        """The spec's headers with ${VAR} taken from the settings and the API keys file."""

        def unset(name: str) -> Callable[[str], SourceError]:
            return lambda var: SourceError(
                f"header {name} needs ${{{var}}}: add {var}=... to the API keys file "
                "(STREAMER_API_KEYS_FILE, .secrets/api-keys.env) and restart the streamer"
            )

        headers = self.config.headers.items()
        return {name: expand(text, self.env, unset(name)) for name, text in headers}

    def _poll(self) -> list[Any]:
        try:
            response = self.session.get(
                self.config.url, headers=self.headers(), timeout=self.config.timeout_s
            )
        except requests.RequestException as error:
            raise self._back_off(f"GET {self.config.url} failed: {error}", None) from None
        if response.status_code in RETRY_STATUSES:
            raise self._back_off(f"GET {self.config.url} answered {response.status_code}", response)
        try:
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise self._back_off(f"GET {self.config.url} failed: {error}", None) from None
        self._failures = 0
        self.state = {"state": "polling", "last_poll_at": time.time()}
        records = records_at(document, self.config.records_path)
        return [r for r in records if self._new(r)]

    def _back_off(self, message: str, response: requests.Response | None) -> SourceError:
        self._failures += 1
        wait = min(self.config.poll_interval_s * 2**self._failures, self.config.backoff_max_s)
        wait = _retry_after(response) or wait
        self._next_poll = time.monotonic() + wait
        self.state = {
            "state": "backing_off", "failures": self._failures,
            "next_try_at": time.time() + wait, "last_error": message,
        }  # fmt: skip
        return SourceError(f"{message}; next try in {wait:.0f} s")

    def _new(self, record: Any) -> bool:
        if not isinstance(record, dict) or not self.config.dedupe:
            return True  # malformed: let validation dead-letter it
        identity = self._identity(record)
        version = self._version(record)
        if self._seen.get(identity) == version:
            return False
        self._seen[identity] = version
        return True

    def _identity(self, record: dict[str, Any]) -> Any:
        key = self.spec.key
        return record.get(key) if key else json.dumps(record, sort_keys=True, default=str)

    def _version(self, record: dict[str, Any]) -> Any:
        ts = self.spec.timestamp
        return record.get(ts.column) if ts else json.dumps(record, sort_keys=True, default=str)


def _retry_after(response: requests.Response | None) -> float | None:
    """Seconds an HTTP Retry-After header asks for (seconds or a date), if any."""
    header = response.headers.get("Retry-After") if response is not None else None
    if not header:
        return None
    if header.strip().isdigit():
        return float(header)
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


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

    replays = False  # values made at send time: nothing to skip after a restart

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


def open_source(spec: DatasetSpec, env: Mapping[str, str] | None = None) -> RowSource:
    """The spec's source; env holds the settings and API keys an http source's headers name."""
    if isinstance(spec.source, CsvSource):
        return CsvRows(spec.source)
    if isinstance(spec.source, JsonlSource):
        return JsonlRows(spec.source)
    if isinstance(spec.source, HttpSource):
        return HttpRows(spec.source, spec, env or {})
    return SyntheticRows(spec.source)
