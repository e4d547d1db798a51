"""Where a stream left off, read back from Kafka when the streamer starts again.

Every record the streamer writes carries its place in the source in the header
streamlab-position: `round:row:seq`, where round counts the times the source was read from its
beginning (a loop or a restart), row is the record's index in that round and seq the seq of
the row (for a dead letter: the seq the next row gets). The idempotent producer keeps each
partition in the order it sent, so the last record of a partition says exactly which of the
rows bound for it Kafka holds. A streamer that starts again (after a crash, a restart of its
container, a re-run of build_setup.sh) reads those last records, skips what Kafka already
holds and carries seq on: each row is sent once. Dead letters are keyed by dataset, so they
sit in one partition, in order, too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from streamlab.kafka_offsets import fetch_records

POSITION_HEADER = "streamlab-position"


@dataclass(frozen=True, order=True)
class Position:
    """A record's place in its stream's source: (round, row); seq rides along unordered."""

    round: int
    row: int
    seq: int = 0

    def place(self) -> tuple[int, int]:
        return (self.round, self.row)

    def headers(self) -> list[tuple[str, bytes]]:
        return [(POSITION_HEADER, f"{self.round}:{self.row}:{self.seq}".encode())]

    @classmethod
    def of(cls, record: Any) -> Position | None:
        """The position a record's header gives; None for a record written without one."""
        for name, value in record.headers or ():
            if name == POSITION_HEADER:
                try:
                    round_, row, seq = (int(part) for part in value.decode().split(":"))
                except ValueError:
                    return None
                return cls(round_, row, seq)
        return None


@dataclass(frozen=True)
class LeftOff:
    """The last position of each raw-topic partition, and of the dead letters."""

    rows: Mapping[int, Position]
    deadletter: Position | None

    @property
    def known(self) -> list[Position]:
        return [*self.rows.values(), *([self.deadletter] if self.deadletter else [])]

    @property
    def start(self) -> Position:
        """Every record before this place is in Kafka (or was filtered out)."""
        return min(self.known, key=Position.place)

    @property
    def end(self) -> tuple[int, int]:
        """Past this place Kafka holds nothing of the stream."""
        return max(p.place() for p in self.known)

    @property
    def next_seq(self) -> int:
        """The seq of the first row Kafka does not hold, when reading resumes at `start`."""
        return self._seq_after(self.start)

    @property
    def seq_after_end(self) -> int:
        """A seq no record in Kafka has: where a source that cannot replay carries on."""
        return max(self._seq_after(p) for p in self.known)

    def _seq_after(self, position: Position) -> int:
        return position.seq if position is self.deadletter else position.seq + 1

    def holds_row(self, partition: int, place: tuple[int, int]) -> bool:
        last = self.rows.get(partition)
        return last is not None and place <= last.place()

    def holds_deadletter(self, place: tuple[int, int]) -> bool:
        return self.deadletter is not None and place <= self.deadletter.place()


def read_left_off(
    consumer: KafkaConsumer, raw_topic: str, deadletter_topic: str, timeout_s: float
) -> LeftOff | None:
    """Where the stream left off; None when Kafka holds no positioned record of it (a new
    stream, or records an older streamer wrote)."""
    last = _last_records(consumer, (raw_topic, deadletter_topic), timeout_s)
    rows = {
        tp.partition: position
        for tp, record in last.items()
        if tp.topic == raw_topic and (position := Position.of(record)) is not None
    }
    letters = [Position.of(r) for tp, r in last.items() if tp.topic == deadletter_topic]
    deadletter = max((p for p in letters if p), key=Position.place, default=None)
    if not rows and deadletter is None:
        return None
    return LeftOff(rows, deadletter)


def _last_records(
    consumer: KafkaConsumer, topics: Iterable[str], timeout_s: float
) -> Mapping[TopicPartition, Any]:
    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        for p in consumer.partitions_for_topic(topic) or ()
    ]
    if not partitions:
        return {}
    starts = consumer.beginning_offsets(partitions)
    ends = consumer.end_offsets(partitions)
    first = {tp: ends[tp] - 1 for tp in partitions if ends[tp] > starts[tp]}
    if not first:
        return {}
    last: dict[TopicPartition, Any] = {}
    for record in fetch_records(consumer, first, ends, timeout_s):
        last[TopicPartition(record.topic, record.partition)] = record
    return last
