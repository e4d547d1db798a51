"""The broker: end offsets of every dataset topic, and how far each Spark query lags
(streamlab.kafka_offsets reads both, as the streamer's Kafka view does)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, NodeNotReadyError

from streamlab.kafka_admin import AdminConnection
from streamlab.kafka_offsets import (
    committed_offsets,
    existing_partitions,
    list_offsets,
    query_lags,
)
from streamlab.specs import DatasetSpec

from ..points import Point, Poll, SourceError

CLIENT_ID = "streamlab-metrics"
_UNREACHABLE = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError)
CLIENT_TIMEOUT_SHARE = 0.8


@dataclass(frozen=True)
class Topic:
    name: str
    dataset: str
    kind: str  # raw | deadletter | alerts | enriched | aggregate (DatasetSpec.topics)


def dataset_topics(specs: Mapping[str, DatasetSpec]) -> list[Topic]:
    """Every topic the provisioner creates for the specs: DatasetSpec.topics."""
    return [Topic(name, spec.name, kind) for spec in specs.values() for name, kind in spec.topics]


def topic_points(topics: list[Topic], ends: Mapping[TopicPartition, int]) -> list[Point]:
    points = []
    for topic in topics:
        offsets = [offset for tp, offset in ends.items() if tp.topic == topic.name]
        if offsets:
            tags = {"topic": topic.name, "dataset": topic.dataset, "kind": topic.kind}
            fields = {"end_offset": sum(offsets), "partitions": len(offsets)}
            points.append(Point("kafka_topic", tags, fields))
    return points


def lag_points(
    specs: Mapping[str, DatasetSpec],
    ends: Mapping[TopicPartition, int],
    committed: Mapping[str, Mapping[TopicPartition, int]],
) -> list[Point]:
    """One point per query that has committed offsets (a query never run has no lag)."""
    points = []
    for spec in specs.values():
        for lag in query_lags(spec, ends, committed):
            if lag.lag is None:
                continue
            tags = {"topic": lag.topic, "dataset": spec.name, "group": lag.group}
            fields = {"lag": lag.lag, "committed_offset": lag.committed_offset,
                      "end_offset": lag.end_offset}  # fmt: skip
            points.append(Point("kafka_lag", tags, fields))
    return points


class KafkaSource:
    """Reads through one admin client, made anew after any failure (so a restarted
    broker is found at once instead of after kafka-python's reconnect back-off)."""

    name = "kafka"

    def __init__(self, bootstrap: str, specs: Mapping[str, DatasetSpec], timeout_s: float) -> None:
        self.bootstrap = bootstrap
        self.where = f"the broker at {bootstrap}"
        self.specs = dict(specs)
        self.topics = dataset_topics(specs)
        # Below the collector's deadline, so that a broker that is down gets kafka-python's
        # own reason rather than the collector's "no answer in time".
        timeout_ms = int(timeout_s * 1000 * CLIENT_TIMEOUT_SHARE)
        self._admin = AdminConnection(bootstrap, CLIENT_ID, timeout_ms)

    def poll(self) -> Poll:
        start = time.monotonic()
        try:
            points = self._read(self._admin.client())
        except KafkaError as error:
            self.close()
            raise SourceError(f"{self.where}: {_message(error)}") from None
        return Poll(points, (time.monotonic() - start) * 1000)

    def close(self) -> None:
        self._admin.close()

    def _read(self, admin: KafkaAdminClient) -> list[Point]:
        partitions = existing_partitions(admin, [t.name for t in self.topics])
        if not partitions:
            return []
        ends = list_offsets(admin, partitions, OffsetSpec.LATEST)
        committed = committed_offsets(admin, self.specs.values(), ends)
        return topic_points(self.topics, ends) + lag_points(self.specs, ends, committed)


def _message(error: KafkaError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, _UNREACHABLE):
        return f"does not answer (is it up?): {text}"
    return text
