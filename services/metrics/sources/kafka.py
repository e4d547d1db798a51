"""The broker: end offsets of every dataset topic, and how far each Spark query lags.

The Spark job commits each query's processed offsets to the consumer group
streamlab-spark.<query> (sparkjob.offsets, named by streamlab.kafka_admin.query_group);
lag = end offsets - those, per raw topic. Query names follow sparkjob.queries:
<dataset>.raw_layer, <dataset>.sinks and <dataset>.<aggregation name> per aggregation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NodeNotReadyError,
)

from streamlab.kafka_admin import AdminConnection, query_group
from streamlab.specs import DatasetSpec

from ..points import Point, Poll, SourceError

CLIENT_ID = "streamlab-metrics"
UNKNOWN_TOPIC = 3  # UNKNOWN_TOPIC_OR_PARTITION: not provisioned (yet)
_COORDINATOR_STARTING = (CoordinatorNotAvailableError, CoordinatorLoadInProgressError)
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


def spark_queries(spec: DatasetSpec) -> list[str]:
    """The names of a dataset's Spark queries (sparkjob.queries), all reading its raw topic:
    an aggregation's query is named `<dataset>.<aggregation name>`."""
    aggregates = [f"{spec.name}.{agg.name}" for agg in spec.aggregations]
    return [f"{spec.name}.raw_layer", f"{spec.name}.sinks", *aggregates]


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
        partitions = {tp: end for tp, end in ends.items() if tp.topic == spec.raw_topic}
        for query in spark_queries(spec):
            group = query_group(query)
            done = committed.get(group, {})
            if not partitions or not any(done.get(tp, -1) >= 0 for tp in partitions):
                continue
            # A partition without a commit has had nothing processed yet.
            offset = sum(max(done.get(tp, 0), 0) for tp in partitions)
            end = sum(partitions.values())
            tags = {"topic": spec.raw_topic, "dataset": spec.name, "group": group}
            fields = {"lag": max(end - offset, 0), "committed_offset": offset, "end_offset": end}
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
        partitions = _partitions(admin, [t.name for t in self.topics])
        if not partitions:
            return []
        latest = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        ends = {tp: answer.offset for tp, answer in latest.items()}
        return topic_points(self.topics, ends) + lag_points(
            self.specs, ends, self._committed(admin, ends)
        )

    def _committed(
        self, admin: KafkaAdminClient, ends: Mapping[TopicPartition, int]
    ) -> dict[str, dict[TopicPartition, int]]:
        wanted = {}
        for spec in self.specs.values():
            raw = [tp for tp in ends if tp.topic == spec.raw_topic]
            if raw:
                wanted.update({query_group(query): raw for query in spark_queries(spec)})
        if not wanted:
            return {}
        try:
            answers = admin.list_group_offsets(wanted)
        except _COORDINATOR_STARTING:
            # Until some client asks for a group, the broker has no __consumer_offsets topic:
            # this first request creates it. No commits can exist yet, so no lag either.
            return {}
        return {
            group: {tp: meta.offset for tp, meta in offsets.items()}
            for group, offsets in answers.items()
        }


def _partitions(admin: KafkaAdminClient, names: list[str]) -> list[TopicPartition]:
    """The partitions of those topics that exist."""
    if not names:
        return []
    return [
        TopicPartition(topic["name"], partition["partition_index"])
        for topic in admin.describe_topics(names)
        if topic["error_code"] != UNKNOWN_TOPIC
        for partition in topic["partitions"]
    ]


def _message(error: KafkaError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, _UNREACHABLE):
        return f"does not answer (is it up?): {text}"
    return text
