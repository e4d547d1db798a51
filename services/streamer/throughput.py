"""Achieved rows per second over a short sliding window, in 100 ms slots."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class Throughput:
    def __init__(self, window_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._slots: deque[list[float]] = deque()  # [slot start, count]
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        slot = self._clock() // 0.1 * 0.1
        with self._lock:
            if self._slots and self._slots[-1][0] == slot:
                self._slots[-1][1] += count
            else:
                self._slots.append([slot, count])
            self._trim(slot)

    def rate(self) -> float:
        now = self._clock()
        with self._lock:
            self._trim(now)
            return sum(count for _, count in self._slots) / self.window_s

    def _trim(self, now: float) -> None:
        while self._slots and self._slots[0][0] <= now - self.window_s:
            self._slots.popleft()
