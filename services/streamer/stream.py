"""One stream: a source, paced by a Pacer, validated by the spec, sent to Kafka.

Each stream runs in its own thread. The control API talks to it only through the public
methods, which take the lock and wake the thread; no request can stop the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from kafka import KafkaConsumer
from kafka.errors import KafkaError

from streamlab.specs import DatasetSpec

from .config import StreamerConfig
from .kafka_sink import KafkaSink, KafkaUnavailable, KeyPartitions
from .pacing import Pacer, Rate
from .records import (
    EpochFormatter,
    RecordFilter,
    Row,
    RowError,
    RowParser,
    encode_deadletter,
    encode_row,
    iso,
)
from .resume import LeftOff, Position, read_left_off
from .sources import RowSource, SourceError, Unreadable, open_source
from .throughput import Throughput

log = logging.getLogger(__name__)

StreamState = Literal[
    "created",
    "running",
    "paused",
    "finished",
    "waiting_for_kafka",
    "source_error",
    "error",
    "stopped",
]
STREAM_STATES: tuple[StreamState, ...] = get_args(StreamState)


@dataclass(slots=True)
class _Pending:
    """A row handed to the producer and not yet acknowledged."""

    future: Any
    topic: str
    key: bytes | None
    value: bytes
    sent_at: float
    is_row: bool
    partition: int | None
    headers: list[tuple[str, bytes]]


class Stream:
    def __init__(self, spec: DatasetSpec, config: StreamerConfig, sink: KafkaSink) -> None:
        self.spec, self.config, self.sink = spec, config, sink
        self.parser = RowParser(spec, config.max_source_bytes)
        self.filter = RecordFilter(getattr(spec.source, "filter", {}))
        self.source: RowSource = open_source(spec, config.header_env)
        self.pacer = Pacer(Rate(spec.rate.mode, spec.rate.value))
        self.timestamp_mode = spec.timestamp_mode
        self.scale = spec.scale
        self.throughput = Throughput()
        self._lock = threading.Condition()
        self._state: StreamState = "created"
        self._error: str | None = None
        self._paused = True
        self._stopping = False
        self._restart_requested = False
        self._thread: threading.Thread | None = None
        self._next: tuple[dict[str, Any], Row] | None = None  # peeked row, kept until accepted
        self._resend: deque[_Pending] = deque()
        self._unacked: deque[_Pending] = deque()
        self._topic_checked = False
        # The place of the last row read: (round, row) as resume.Position describes them.
        self._round, self._row, self._looped_seen = 0, -1, 0
        self._left_off: LeftOff | None = None
        self.partitions = KeyPartitions()
        self._format_epoch = EpochFormatter()
        self._scaled_anchor: tuple[datetime, datetime] | None = None
        self.counters = dict.fromkeys(
            ("sent", "acked", "deadlettered", "filtered", "restarts", "resent"), 0
        )
        self._rate_changed_at = time.time()

    # --- control (any thread) ---

    def start(self, running: bool) -> None:
        self._paused = not running
        self._state = "running" if running else "paused"
        self._thread = threading.Thread(target=self._loop, name=f"stream-{self.spec.name}")
        self._thread.daemon = True
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def rate(self) -> Rate:
        with self._lock:
            return self.pacer.rate

    def set_rate(self, rate: Rate, timestamp_mode: str | None = None) -> Rate:
        """Changes the rate at once; returns the rate it replaced."""
        with self._lock:
            previous = self.pacer.rate
            self.pacer.set_rate(rate)
            if timestamp_mode is not None:
                self.timestamp_mode = timestamp_mode
            if rate.mode == "speedup":
                self.scale = rate.value
            self._scaled_anchor = None
            self._rate_changed_at = time.time()
            self._lock.notify_all()
            return previous

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            self._lock.notify_all()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self.pacer.reanchor()
            self._lock.notify_all()

    def restart(self) -> None:
        """Replay the source from its beginning; counters keep counting."""
        with self._lock:
            self._restart_requested = True
            self._paused = False
            self.counters["restarts"] += 1
            self._set_state("running")
            self._lock.notify_all()

    def status(self) -> dict[str, Any]:
        with self._lock:
            rate = self.pacer.rate
            return {
                "name": self.spec.name,
                "description": self.spec.description,
                "source": self.spec.source.type,
                "topic": self.spec.raw_topic,
                "deadletter_topic": self.spec.deadletter_topic,
                "state": self._state,
                "error": self._error,
                "rate": rate.as_dict(),
                "timestamps": self.timestamp_mode,
                "achieved_rows_per_second": round(self.throughput.rate(), 3),
                "rows_sent": self.counters["sent"],
                "rows_acked": self.counters["acked"],
                "rows_unacked": len(self._unacked) + len(self._resend),
                "rows_deadlettered": self.counters["deadlettered"],
                "rows_filtered": self.counters["filtered"],
                "rows_resent": self.counters["resent"],
                "restarts": self.counters["restarts"],
                "loops": self.source.looped,
                "rate_changed_at": self._rate_changed_at,
                "source_state": getattr(self.source, "state", None),
            }

    # --- the stream's own thread ---

    def _loop(self) -> None:
        while True:
            self._reap()
            with self._lock:
                if self._stopping:
                    break
                if self._restart_requested:
                    self._do_restart()
                if self._paused:
                    self._set_state("paused")
                    self._lock.wait(0.1 if self._unacked else 0.5)
                    continue
            try:
                self._step()
            except KafkaUnavailable as error:
                self._set_state("waiting_for_kafka", str(error))
                self._sleep(self.config.kafka_retry_s)
            except SourceError as error:
                self._set_state("source_error", str(error))
                self._sleep(self.source.wait_hint() or 1.0)
            except Exception as error:  # keep the stream alive whatever a row does
                log.exception("stream %s: unexpected error", self.spec.name)
                self._set_state("error", f"{type(error).__name__}: {error}")
                self._sleep(1.0)
        self._drain()
        self._set_state("stopped")

    def _step(self) -> None:
        self.sink.producer()
        if not self._topic_checked:
            self.sink.check_topic(self.spec.raw_topic)
            self._resume()
            self._topic_checked = True
        if self._backpressured():
            return
        if self._resend:
            self._send_resends()
            return
        with self._lock:
            if not self._paused and not self._restart_requested:
                self._send_due_rows()

    def _backpressured(self) -> bool:
        if len(self._unacked) < self.config.max_unacked and not self._stalled():
            return False
        oldest = self._unacked[0].sent_at if self._unacked else time.monotonic()
        age = time.monotonic() - oldest
        self._set_state(
            "waiting_for_kafka",
            f"{len(self._unacked)} rows wait for Kafka's acknowledgement "
            f"(oldest {age:.1f} s): is the broker at {self.sink.config.bootstrap_servers} up?",
        )
        self._sleep(0.05)
        return True

    def _stalled(self) -> bool:
        if not self._unacked:
            return False
        return time.monotonic() - self._unacked[0].sent_at > self.config.kafka_stall_s

    def _send_due_rows(self) -> None:
        """Called with the lock held: sends every row due now, at most one burst's worth."""
        producer = self.sink.producer()
        budget, sent = self._burst_budget(), 0
        now = time.monotonic()
        try:
            while sent < budget:
                peeked = self._peek()
                if peeked is None:
                    self._idle()
                    return
                due = self.pacer.deadline(now, self.counters["sent"], peeked[1].original_time)
                if due > now:
                    now = time.monotonic()  # read the clock again only when the row looks early
                    if due > now:
                        self._set_state("running")
                        self._lock.wait(min(due - now, 0.25))
                        return
                self._send_row(producer, peeked[1], now)
                self._next = None
                sent += 1
            self._set_state("running")
        finally:
            self.throughput.add(sent)

    def _burst_budget(self) -> int:
        per_second = self.pacer.rate.rows_per_second or self.config.max_rate
        return max(1, int(per_second * self.config.max_burst_s))

    def _idle(self) -> None:
        if self.source.finished:
            self._set_state("finished")
            self._lock.wait(0.5)
        else:
            self._set_state("running")
            self._lock.wait(self.source.wait_hint())

    def _peek(self) -> tuple[dict[str, Any], Row] | None:
        """The next valid row; filtered ones are counted, invalid ones dead-lettered."""
        while self._next is None:
            raw = self._read()
            if raw is None:
                return None
            if isinstance(raw, Unreadable):
                self._deadletter(raw.record, raw.reason)
            elif not self.filter.keeps(raw):
                self.counters["filtered"] += 1
            else:
                try:
                    self._next = (raw, self.parser.parse(raw))
                except RowError as error:
                    self._deadletter(raw, str(error))
        return self._next

    def _read(self) -> Any:
        """The source's next record, counting its place."""
        raw = self.source.next_row()
        if raw is None:
            return None
        if self.source.looped != self._looped_seen:
            self._round += self.source.looped - self._looped_seen
            self._looped_seen, self._row = self.source.looped, 0
        else:
            self._row += 1
        return raw

    def _position(self) -> Position:
        return Position(self._round, self._row, self.counters["sent"])

    def _send_row(self, producer: Any, row: Row, now: float) -> None:
        seq, position = self.counters["sent"], self._position()
        key = row.key.encode() if row.key is not None else None
        partition = self.partitions.partition(producer, self.spec.raw_topic, key, seq)
        if self._left_off and self._left_off.holds_row(partition, position.place()):
            self.counters["acked"] += 1  # Kafka has it from before the streamer started
        else:
            wall = time.time()
            value = encode_row(row, seq, self._event_time(row, wall), int(wall * 1000))
            self._produce(self.spec.raw_topic, key, value, True, partition, position.headers(), now)
        self.counters["sent"] += 1
        self._forget_left_off(position)

    def _event_time(self, row: Row, wall: float) -> str:
        original = row.original_time
        if self.timestamp_mode == "send_time" or original is None:
            return self._format_epoch(wall)
        if self.timestamp_mode == "original":
            return iso(original)
        if self._scaled_anchor is None or original < self._scaled_anchor[1]:
            self._scaled_anchor = (wall, original)
        start_wall, start_original = self._scaled_anchor
        offset = (original - start_original).total_seconds() / (self.scale or 1.0)
        return self._format_epoch(start_wall + offset)

    def _deadletter(self, raw: Any, reason: str) -> None:
        position = self._position()
        if not (self._left_off and self._left_off.holds_deadletter(position.place())):
            value = encode_deadletter(self.spec.name, raw, reason, datetime.now(UTC))
            topic, key = self.spec.deadletter_topic, self.spec.name.encode()
            # Keyed by dataset: one partition, in order, so a restart knows the last one.
            partition = self.partitions.partition(self.sink.producer(), topic, key, 0)
            self._produce(topic, key, value, False, partition, position.headers())
        self.counters["deadlettered"] += 1
        self._forget_left_off(position)

    def _produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        is_row: bool,
        partition: int,
        headers: list[tuple[str, bytes]],
        now: float | None = None,
    ) -> None:
        try:
            future = self.sink.producer().send(
                topic, value=value, key=key, partition=partition, headers=headers
            )
        except KafkaError as error:
            raise KafkaUnavailable(f"Kafka did not accept a row for {topic}: {error}") from None
        sent_at = time.monotonic() if now is None else now
        self._unacked.append(
            _Pending(future, topic, key, value, sent_at, is_row, partition, headers)
        )

    def _send_resends(self) -> None:
        while self._resend:
            p = self._resend[0]
            self._produce(p.topic, p.key, p.value, p.is_row, p.partition, p.headers)
            self._resend.popleft()
            self.counters["resent"] += 1

    # --- starting again where Kafka says the stream left off (resume.py) ---

    def _resume(self) -> None:
        """Before the first row: seq carries on from Kafka; a file source skips what Kafka
        holds. Only this thread reads the source; the lock is taken for what requests see."""
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.sink.config.bootstrap_servers.split(","),
                group_id=None,
                enable_auto_commit=False,
                metrics_enabled=False,
            )
            try:
                left_off = read_left_off(
                    consumer,
                    self.spec.raw_topic,
                    self.spec.deadletter_topic,
                    self.config.kafka_stall_s,
                )
            finally:
                consumer.close()
        except KafkaError as error:
            raise KafkaUnavailable(
                f"cannot read where {self.spec.name} left off: {error}"
            ) from None
        if left_off is None:
            return
        start, seq = left_off.start, left_off.seq_after_end
        if self.source.replays:
            self._skip_to(start.place())
            seq = left_off.next_seq
        with self._lock:
            self._left_off = left_off if self.source.replays else None
            self.counters["sent"] = self.counters["acked"] = seq
            self.pacer.reanchor()
        log.info(
            "stream %s: Kafka holds it up to round %d row %d; carries on at seq %d",
            self.spec.name, start.round, start.row, seq,
        )  # fmt: skip

    def _skip_to(self, place: tuple[int, int]) -> None:
        """Reads the source up to `place` (included) without parsing: Kafka has all of it."""
        while (self._round, self._row) < place:
            if self._read() is None:
                if self._row < 0:
                    return  # an empty source: nothing to skip
                self._do_restart()  # that round ended in a restart, not a loop

    def _forget_left_off(self, position: Position) -> None:
        if self._left_off and position.place() >= self._left_off.end:
            self._left_off = None

    def _reap(self) -> None:
        """Counts acknowledged rows; failed ones are queued to be sent again, never dropped."""
        while self._unacked and self._unacked[0].future.is_done:
            pending = self._unacked.popleft()
            if pending.future.failed():
                log.warning(
                    "stream %s: resending after %s", self.spec.name, pending.future.exception
                )
                self._resend.append(pending)
            elif pending.is_row:
                self.counters["acked"] += 1

    def _drain(self) -> None:
        try:
            self.sink.producer().flush(5)
        except (KafkaError, KafkaUnavailable):
            return
        self._reap()

    def _do_restart(self) -> None:
        self._restart_requested = False
        self.source.rewind()
        self.source.looped = 0
        self._round, self._row, self._looped_seen = self._round + 1, -1, 0
        self._left_off = None
        self._next = None
        self._scaled_anchor = None
        self.pacer.reanchor()

    def _set_state(self, state: StreamState, error: str | None = None) -> None:
        self._state = state
        self._error = error

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            if not self._stopping:
                self._lock.wait(seconds)
