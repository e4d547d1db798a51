"""Writes the streamer's events to InfluxDB from a background thread.

record() only puts the event on a bounded queue: a control request is never delayed or
failed by InfluxDB being slow, down or refusing. The thread sends whatever has queued up in
one write through streamlab.influx (as the Spark job and the metrics collector do).
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from streamlab.influx import InfluxTarget, InfluxWriter

from .config import EventsConfig
from .events import StreamEvent

log = logging.getLogger(__name__)

MAX_BATCH = 500


class EventWriter:
    def __init__(self, config: EventsConfig) -> None:
        self.config = config
        self._queue: queue.Queue[StreamEvent | None] = queue.Queue(config.queue_size)
        self._writer: InfluxWriter | None = None
        self._thread: threading.Thread | None = None
        self.enabled = _usable(config)
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="streamer-events", daemon=True)
            self._thread.start()

    def record(self, event: StreamEvent) -> None:
        """Queues the event; never blocks, never raises."""
        if not self.enabled:
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("streamer events: queue full, dropped %s of %s", event.event, event.stream)

    def close(self, timeout: float = 5.0) -> None:
        """Writes what is queued (waiting at most `timeout`), then stops the thread."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            events = [e for e in batch if e is not None]
            if events:
                self._write(events)
            if None in batch:
                self._close_writer()
                return

    def _next_batch(self) -> list[StreamEvent | None]:
        batch = [self._queue.get()]
        while len(batch) < MAX_BATCH and batch[-1] is not None:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, events: list[StreamEvent]) -> None:
        try:
            self._influx_writer().write_points(e.point() for e in events)
        except ApiException as error:
            if error.status == 401:
                self._close_writer()  # read the token file again next time: it may be new
            body = (error.body or "").strip()[:300]
            log.warning(
                "streamer events: %d not written, InfluxDB answered %s: %s",
                len(events), error.status, body,
            )  # fmt: skip
        except (HTTPError, OSError) as error:
            log.warning("streamer events: %d not written to InfluxDB: %s", len(events), error)

    def _influx_writer(self) -> InfluxWriter:
        if self._writer is None:
            assert self.config.token_file is not None  # checked by _usable
            token = self.config.token_file.read_text().strip()
            self._writer = InfluxWriter(
                InfluxTarget(
                    self.config.influx_url, self.config.org, self.config.bucket, token,
                    # at most the queue per request: every event waiting goes in one
                    batch_size=self.config.queue_size,
                    timeout_ms=int(self.config.timeout_s * 1000),
                )
            )  # fmt: skip
        return self._writer

    def _close_writer(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()


def _usable(config: EventsConfig) -> bool:
    """Whether events can be written; says why not in one log line."""
    reason = _off_reason(config.influx_url, config.token_file)
    if reason:
        log.info("streamer events: off (%s)", reason)
        return False
    log.info(
        "streamer events: on, to bucket %s of %s at %s",
        config.bucket,
        config.org,
        config.influx_url,
    )
    return True


def _off_reason(url: str, token_file: Path | None) -> str | None:
    if not url:
        return "INFLUX_URL is empty"
    if token_file is None:
        return "INFLUX_WRITE_TOKEN_FILE is not set"
    if not token_file.is_file():
        return f"the token file {token_file} does not exist yet: the provisioner writes it"
    return None
