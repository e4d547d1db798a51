"""Offsets of the datasets' topics and of the Spark queries that read them.

The Spark job commits each query's processed offsets to the consumer group
streamlab-spark.<query> (kafka_admin.query_group); a query's lag is the end offsets of its
dataset's raw topic minus those. Query names follow sparkjob.queries: <dataset>.raw_layer,
<dataset>.sinks and <dataset>.<aggregation name> per aggregation. Read through kafka-python's
admin client by the metrics collector and the streamer's Kafka view alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    KafkaError,
)

from .kafka_admin import query_group
from .specs import DatasetSpec

UNKNOWN_TOPIC = 3  # UNKNOWN_TOPIC_OR_PARTITION: not provisioned (yet)
_COORDINATOR_STARTING = (CoordinatorNotAvailableError, CoordinatorLoadInProgressError)


@dataclass(frozen=True)
class QueryLag:
    query: str
    group: str
    topic: str
    committed_offset: int | None  # None: the query has committed nothing yet
    end_offset: int

    @property
    def lag(self) -> int | None:
        if self.committed_offset is None:
            return None
        return max(self.end_offset - self.committed_offset, 0)


def spark_queries(spec: DatasetSpec) -> list[str]:
    """The names of a dataset's Spark queries, all reading its raw topic."""
    aggregates = [f"{spec.name}.{agg.name}" for agg in spec.aggregations]
    return [f"{spec.name}.raw_layer", f"{spec.name}.sinks", *aggregates]


def existing_partitions(admin: KafkaAdminClient, names: Iterable[str]) -> list[TopicPartition]:
    """The partitions of those topics that exist."""
    names = list(names)
    if not names:
        return []
    return [
        TopicPartition(topic["name"], partition["partition_index"])
        for topic in admin.describe_topics(names)
        if topic["error_code"] != UNKNOWN_TOPIC
        for partition in topic["partitions"]
    ]


def list_offsets(
    admin: KafkaAdminClient, partitions: Iterable[TopicPartition], spec: OffsetSpec
) -> dict[TopicPartition, int]:
    """Each partition's earliest (OffsetSpec.EARLIEST) or end (OffsetSpec.LATEST) offset."""
    wanted = dict.fromkeys(partitions, spec)
    if not wanted:
        return {}
    return {tp: answer.offset for tp, answer in admin.list_partition_offsets(wanted).items()}


def committed_offsets(
    admin: KafkaAdminClient,
    specs: Iterable[DatasetSpec],
    ends: Mapping[TopicPartition, int],
) -> dict[str, dict[TopicPartition, int]]:
    """Per Spark query group, its committed offset of each raw-topic partition (-1: none)."""
    wanted = {}
    for spec in specs:
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


def query_lags(
    spec: DatasetSpec,
    ends: Mapping[TopicPartition, int],
    committed: Mapping[str, Mapping[TopicPartition, int]],
) -> list[QueryLag]:
    """Every Spark query of the dataset, once its raw topic exists."""
    partitions = {tp: end for tp, end in ends.items() if tp.topic == spec.raw_topic}
    if not partitions:
        return []
    lags = []
    for query in spark_queries(spec):
        group = query_group(query)
        done = committed.get(group, {})
        offset = None
        if any(done.get(tp, -1) >= 0 for tp in partitions):
            # A partition without a commit has had nothing processed yet.
            offset = sum(max(done.get(tp, 0), 0) for tp in partitions)
        lags.append(QueryLag(query, group, spec.raw_topic, offset, sum(partitions.values())))
    return lags


def fetch_records(
    consumer: KafkaConsumer,
    first: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
    timeout_s: float,
) -> list[Any]:
    """The records of each partition from its `first` offset up to its end offset, read by a
    consumer without a group; raises KafkaError when they do not all arrive in time."""
    consumer.assign(list(first))
    for tp, offset in first.items():
        consumer.seek(tp, offset)
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    pending = {tp for tp in first if first[tp] < ends[tp]}
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise KafkaError(f"no records within {timeout_s:g} s")
        for tp, batch in consumer.poll(timeout_ms=max(1, int(left * 1000))).items():
            records.extend(r for r in batch if r.offset < ends[tp])
        pending = {tp for tp in pending if consumer.position(tp) < ends[tp]}
    return records
