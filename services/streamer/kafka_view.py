"""What the control page's Kafka view shows, read from the broker: the datasets' topics with
their offsets, each Spark query's lag, the newest records of a topic, the newest dead letters.

Read-only, and only the datasets' topics (DatasetSpec.topics). One admin client and one
consumer (no group: it commits nothing) serve every request in turn, and are made anew after
any failure, so a broker that comes back is found at once.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaError

from streamlab.kafka_admin import AdminConnection
from streamlab.kafka_offsets import (
    committed_offsets,
    existing_partitions,
    fetch_records,
    list_offsets,
    query_lags,
)
from streamlab.specs import DatasetSpec

from .config import ApiLimits

CLIENT_ID = "streamlab-streamer-view"


class KafkaViewError(RuntimeError):
    """The broker did not answer; the message says what to check."""


@dataclasses.dataclass(frozen=True)
class Topic:
    name: str
    dataset: str
    kind: str  # raw | deadletter | alerts | enriched | aggregate (DatasetSpec.topics)


class KafkaView:
    def __init__(self, bootstrap: str, specs: Mapping[str, DatasetSpec], limits: ApiLimits) -> None:
        self.bootstrap = bootstrap
        self.specs = dict(specs)
        self.limits = limits
        self.topics = {
            name: Topic(name, spec.name, kind)
            for spec in self.specs.values()
            for name, kind in spec.topics
        }
        self._timeout_ms = int(limits.kafka_view_timeout_s * 1000)
        self._admin = AdminConnection(bootstrap, CLIENT_ID, self._timeout_ms)
        self._consumer: KafkaConsumer | None = None
        self._lock = threading.Lock()

    def offsets(self) -> dict[str, Any]:
        """Every dataset topic's partitions and offsets, and every Spark query's lag."""
        with self._reading() as admin:
            partitions = existing_partitions(admin, self.topics)
            starts = list_offsets(admin, partitions, OffsetSpec.EARLIEST)
            ends = list_offsets(admin, partitions, OffsetSpec.LATEST)
            committed = committed_offsets(admin, self.specs.values(), ends)
        topics = [_topic_offsets(topic, starts, ends) for topic in self.topics.values()]
        queries = [
            {"dataset": spec.name, **dataclasses.asdict(lag), "lag": lag.lag}
            for spec in self.specs.values()
            for lag in query_lags(spec, ends, committed)
        ]
        return {"topics": topics, "queries": queries}

    def records(self, topic: str, limit: int) -> list[dict[str, Any]]:
        """The topic's newest records, newest first."""
        most = self.limits.record_value_bytes
        return [record_view(r, most) for r in self._newest([topic], limit)]

    def deadletters(self, limit: int) -> list[dict[str, Any]]:
        """The newest dead letters of every dataset, newest first."""
        names = [t.name for t in self.topics.values() if t.kind == "deadletter"]
        most = self.limits.record_value_bytes
        return [
            deadletter_view(r, most, self.topics[r.topic].dataset)
            for r in self._newest(names, limit)
        ]

    def close(self) -> None:
        with self._lock:
            self._drop()

    # --- reading ---

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """The admin client, one request at a time; dropped after any failure."""
        with self._lock:
            try:
                yield self._admin.client()
            except KafkaError as error:
                self._drop()
                raise KafkaViewError(
                    f"the broker at {self.bootstrap} did not answer ({error}): is it up, "
                    "and is KAFKA_BOOTSTRAP_SERVERS right?"
                ) from None

    def _newest(self, names: Iterable[str], limit: int) -> list[Any]:
        """The newest `limit` records of those topics: the last `limit` of each partition,
        merged by timestamp."""
        with self._reading() as admin:
            partitions = existing_partitions(admin, names)
            starts = list_offsets(admin, partitions, OffsetSpec.EARLIEST)
            ends = list_offsets(admin, partitions, OffsetSpec.LATEST)
            first = {tp: max(starts[tp], ends[tp] - limit) for tp in partitions}
            wanted = {tp: offset for tp, offset in first.items() if offset < ends[tp]}
            records = self._fetch(wanted, ends) if wanted else []
        records.sort(key=lambda r: (r.timestamp, r.partition, r.offset), reverse=True)
        return records[:limit]

    def _fetch(
        self, first: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> list[Any]:
        return fetch_records(self._consumer_client(), first, ends, self.limits.kafka_view_timeout_s)

    def _consumer_client(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap.split(","),
                client_id=CLIENT_ID,
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=self._timeout_ms,
                bootstrap_timeout_ms=self._timeout_ms,
                metrics_enabled=False,
            )
        return self._consumer

    def _drop(self) -> None:
        consumer, self._consumer = self._consumer, None
        self._admin.close()
        if consumer is not None:
            consumer.close()


# --- what each record shows ---


def cut_text(data: bytes | None, most: int) -> str | None:
    """Bytes as UTF-8 text, at most `most` of them (a character cut in two is replaced)."""
    return None if data is None else data[:most].decode("utf-8", "replace")


def record_view(record: Any, most: int) -> dict[str, Any]:
    """A record as kafka-python returns it, as the API shows it."""
    return {
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp,
        "key": cut_text(record.key, most),
        "value": cut_text(record.value, most),
        "value_bytes": len(record.value or b""),
        "truncated": len(record.value or b"") > most,
    }


def deadletter_view(record: Any, most: int, dataset: str) -> dict[str, Any]:
    """A dead letter as the streamer and the Spark job write them: a JSON object with
    dataset, stage, reason, at and the refused record; anything else shows as the record."""
    message = _json_object(record.value)
    found = message or {}
    fields = {key: _text_or_none(found.get(key)) for key in ("dataset", "stage", "reason", "at")}
    shown = record.value if message is None else _json_text(message.get("record"))
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp,
        **fields,
        "dataset": fields["dataset"] or dataset,
        "record": cut_text(shown, most),
    }


def _topic_offsets(
    topic: Topic, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
) -> dict[str, Any]:
    partitions = sorted((tp for tp in ends if tp.topic == topic.name), key=lambda tp: tp.partition)
    return {
        "topic": topic.name,
        "dataset": topic.dataset,
        "kind": topic.kind,
        "exists": bool(partitions),
        "partitions": [
            {"partition": tp.partition, "start_offset": starts[tp], "end_offset": ends[tp]}
            for tp in partitions
        ],
        "end_offset": sum(ends[tp] for tp in partitions),
    }


def _json_object(data: bytes | None) -> dict[str, Any] | None:
    try:
        message = json.loads(data or b"")
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def _json_text(value: Any) -> bytes | None:
    try:
        return json.dumps(value, ensure_ascii=False, default=str).encode()
    except (ValueError, RecursionError):
        return None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
