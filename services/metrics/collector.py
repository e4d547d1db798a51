"""The collector's loop: every interval, poll every source at once, write one batch.

Each source is polled on its own thread with a deadline (METRICS_TIMEOUT_S), so a slow or
hung source is recorded as down without stalling the others or the cycle. A source still
busy from an earlier cycle is not polled again until it returns: hung polls never pile up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Protocol

from influxdb_client import Point as InfluxPoint

from .points import MetricsError, Point, Poll, SourceError, to_influx

log = logging.getLogger(__name__)


class Source(Protocol):
    name: str
    where: str  # its address, for messages

    def poll(self) -> Poll: ...

    def close(self) -> None: ...


class Writer(Protocol):
    def write(self, points: list[InfluxPoint]) -> None: ...

    def close(self) -> None: ...


def status_point(source: str, poll: Poll | None, error: Exception | None) -> Point:
    if poll is not None:
        return Point(
            "source_status", {"source": source}, {"up": 1, "response_ms": poll.response_ms}
        )
    response_ms = error.response_ms if isinstance(error, SourceError) else None
    fields = {"up": 0, "response_ms": response_ms, "error": _describe(error)}
    return Point("source_status", {"source": source}, fields)


def _describe(error: Exception | None) -> str:
    if isinstance(error, MetricsError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class Collector:
    def __init__(
        self,
        sources: Sequence[Source],
        writer: Writer,
        *,
        interval_s: float,
        timeout_s: float,
        heartbeat_file: str = "",
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.sources = list(sources)
        self.writer = writer
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.heartbeat = Path(heartbeat_file) if heartbeat_file else None
        self.clock_ns = clock_ns
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(self.sources)), thread_name_prefix="metrics-poll"
        )
        self._busy: dict[str, tuple[Future[Poll], float]] = {}
        self._up: dict[str, bool] = {}  # last known state per source, and "influxdb"

    def run(self, stop: threading.Event) -> None:
        """Cycles until stop is set; a cycle that fails never ends the loop."""
        names = ", ".join(s.name for s in self.sources) or "none"
        log.info("polling every %.1f s: %s", self.interval_s, names)
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    self.cycle()
                except Exception:  # the loop outlives any bug in one cycle
                    log.exception("metrics cycle failed")
                self._beat()
                stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))
        finally:
            self.close()

    def cycle(self) -> list[InfluxPoint]:
        """Polls every source and writes the points; returns those written (or dropped)."""
        points = to_influx(self.poll_all(), self.clock_ns())
        self._write(points)
        return points

    def poll_all(self) -> list[Point]:
        started = {s.name: self._submit(s) for s in self.sources}
        pending = [future for future in started.values() if future is not None]
        wait(pending, timeout=self.timeout_s)
        points: list[Point] = []
        for source in self.sources:
            poll, error = self._outcome(source, started[source.name])
            self._log_change(source.name, error)
            if poll is not None:
                points.extend(poll.points)
            points.append(status_point(source.name, poll, error))
        return points

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for source in self.sources:
            try:
                source.close()
            except Exception as error:
                log.debug("closing %s: %s", source.name, error)
        self.writer.close()

    # -- internals -------------------------------------------------------------------------

    def _submit(self, source: Source) -> Future[Poll] | None:
        """Starts a poll, or None when the previous one has not returned yet."""
        busy = self._busy.get(source.name)
        if busy is not None and not busy[0].done():
            return None
        future = self._pool.submit(source.poll)
        self._busy[source.name] = (future, time.monotonic())
        return future

    def _outcome(
        self, source: Source, future: Future[Poll] | None
    ) -> tuple[Poll | None, Exception | None]:
        if future is None:
            since = time.monotonic() - self._busy[source.name][1]
            return None, SourceError(
                f"{source.where}: no answer yet to a poll started {since:.0f} s ago"
            )
        if not future.done():
            return None, SourceError(
                f"{source.where}: no answer within METRICS_TIMEOUT_S={self.timeout_s:g} s"
            )
        error = future.exception()
        if error is not None:
            return None, error if isinstance(error, Exception) else RuntimeError(str(error))
        return future.result(), None

    def _write(self, points: list[InfluxPoint]) -> None:
        try:
            self.writer.write(points)
        except Exception as error:  # InfluxDB down: drop this batch, try the next one
            dropped = f"{len(points)} point{'' if len(points) == 1 else 's'} dropped"
            self._log_change("influxdb", error, f"{dropped}, retrying next cycle")
        else:
            self._log_change("influxdb", None)

    def _log_change(self, name: str, error: Exception | None, consequence: str = "") -> None:
        """Logs a source going down or coming back, once per change of state."""
        up = error is None
        was = self._up.get(name)
        self._up[name] = up
        if was == up:
            return
        if up:
            log.info("%s is %s", name, "up" if was is None else "up again")
        else:
            detail = f" ({consequence})" if consequence else ""
            log.warning("%s is down: %s%s", name, _describe(error), detail)

    def _beat(self) -> None:
        """Touches the heartbeat file the container's healthcheck reads."""
        if self.heartbeat is None:
            return
        try:
            self.heartbeat.touch()
        except OSError as error:
            log.warning("cannot touch the heartbeat file %s: %s", self.heartbeat, error)
