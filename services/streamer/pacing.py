"""Rate control against absolute deadlines.

Row n after the anchor is due at anchor_time + n / rate (or, in speed-up mode, at
anchor_time + (its original time - the anchor row's original time) / factor). Sleeping a
fixed delta per row drifts by the cost of each send; deadlines do not. A rate change, a
resume or a long stall re-anchors at the current row, so the new rate holds at once and a
backlog of missed deadlines is never sent as a burst.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Rate:
    mode: str  # one of streamlab.specs.RATE_MODES
    value: float

    @property
    def rows_per_second(self) -> float | None:
        """Asked rows per second; None in speed-up mode, where the data sets the pace."""
        if self.mode == "rows_per_second":
            return self.value
        if self.mode == "interval_s":
            return 1.0 / self.value
        return None

    def as_dict(self) -> dict[str, float | str | None]:
        return {"mode": self.mode, "value": self.value, "rows_per_second": self.rows_per_second}


class Pacer:
    """Tells when the next row is due. Not thread-safe: the stream serialises calls."""

    def __init__(self, rate: Rate, max_lag_s: float = 1.0) -> None:
        self.rate = rate
        self.max_lag_s = max_lag_s
        self._anchor_time = 0.0
        self._anchor_count = 0
        self._anchor_original: datetime | None = None
        self._anchored = False

    def set_rate(self, rate: Rate) -> None:
        self.rate = rate
        self._anchored = False

    def reanchor(self) -> None:
        self._anchored = False

    def deadline(self, now: float, count: int, original: datetime | None) -> float:
        """When the row numbered `count` (rows sent so far) with this original time is due."""
        if not self._anchored or self._jumped_back(original):
            self._anchor(now, count, original)
        due = self._due(count, original)
        if now - due > self.max_lag_s:
            # Far behind (a stall, a pause, a slow broker): start the schedule again from now.
            self._anchor(now, count, original)
            due = now
        return due

    def _anchor(self, now: float, count: int, original: datetime | None) -> None:
        self._anchor_time, self._anchor_count = now, count
        self._anchor_original = original
        self._anchored = True

    def _jumped_back(self, original: datetime | None) -> bool:
        """A looped replay starts over at an earlier original time."""
        if self.rate.mode != "speedup" or original is None or self._anchor_original is None:
            return False
        return original < self._anchor_original

    def _due(self, count: int, original: datetime | None) -> float:
        if self.rate.mode == "speedup":
            if original is None or self._anchor_original is None:
                return self._anchor_time
            gap = (original - self._anchor_original).total_seconds()
            return self._anchor_time + gap / self.rate.value
        per_second = self.rate.rows_per_second or math.inf
        return self._anchor_time + (count - self._anchor_count) / per_second
