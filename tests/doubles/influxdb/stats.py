"""Counters the inspection API reports: requests per route, writes, lines written."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._writes: Counter[str] = Counter()

    def count_request(self, route: str) -> None:
        with self._lock:
            self._requests[route] += 1

    def count_write(
        self, accepted: bool, lines: int = 0, dropped: int = 0, gzipped: bool = False
    ) -> None:
        """One write request; `lines` = points stored, `dropped` = points refused."""
        with self._lock:
            self._writes["write_requests"] += 1
            self._writes["write_requests_gzip"] += gzipped
            self._writes["write_requests_accepted" if accepted else "write_requests_failed"] += 1
            self._writes["lines_written"] += lines
            self._writes["points_dropped"] += dropped

    def value(self, name: str) -> int:
        with self._lock:
            return self._writes[name]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            names = (
                "write_requests",
                "write_requests_accepted",
                "write_requests_failed",
                "write_requests_gzip",
            )
            return {
                "requests": dict(sorted(self._requests.items())),
                **{name: self._writes[name] for name in names},
                "lines_written": self._writes["lines_written"],
                "points_dropped": self._writes["points_dropped"],
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._writes.clear()
