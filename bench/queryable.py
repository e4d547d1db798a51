"""When each point became queryable: Flux polled for the newest points of a measurement,
each (tags, time) recorded the first time a query returns it. Shared by the spark and
stack benchmarks; the poll interval is the measurement's resolution."""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Callable

Query = Callable[[str], str]  # Flux in, annotated CSV out (through a read token)


def _time_ns(rfc3339: str) -> int:
    seconds, _, rest = rfc3339.rstrip("Z").partition(".")
    whole = dt.datetime.fromisoformat(seconds).replace(tzinfo=dt.UTC)
    return int(whole.timestamp()) * 1_000_000_000 + int((rest or "0").ljust(9, "0")[:9])


class QueryableClock:
    """First time each point of `measurement` (by its tag and time) was returned by Flux;
    points sent before since_ns (stored before the clock started) are left out."""

    def __init__(
        self, query: Query, bucket: str, measurement: str, field: str, tag: str,
        since_ns: int = 0,
    ) -> None:  # fmt: skip
        self.query, self.tag, self.since_ns = query, tag, since_ns
        self.flux = (
            f'from(bucket: "{bucket}") |> range(start: -1m)'
            f' |> filter(fn: (r) => r._measurement == "{measurement}" and r._field == "{field}")'
            f' |> keep(columns: ["_time", "{tag}"]) |> group()'
        )
        self.seen: dict[tuple[str, str], int] = {}

    def poll(self) -> None:
        answer = self.query(self.flux)
        now = time.time_ns()
        # Annotation rows start with '#'; grouped into one table, there is one header.
        lines = [line for line in answer.splitlines() if line.strip() and line[0] != "#"]
        for row in csv.DictReader(lines):
            if row["_time"] != "_time" and _time_ns(row["_time"]) >= self.since_ns:
                self.seen.setdefault((row[self.tag], row["_time"]), now)

    def poll_for(self, seconds: float, every: float) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            self.poll()
            time.sleep(every)

    def latencies_s(self) -> list[float]:
        """Seconds from each point's send to its first return, sorted. In send_time mode a
        point's time is its send time in us * 1000 + seq % 1000."""
        return sorted((at - _time_ns(t) // 1000 * 1000) / 1e9 for (_, t), at in self.seen.items())


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
