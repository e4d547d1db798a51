"""Each query's processed Kafka offsets, committed to the consumer group streamlab-spark.<query>.

Spark keeps its offsets in its checkpoint, out of Kafka's sight; committing them after
every batch lets the usual tools (kafka-consumer-groups.sh, the metrics collector) see how
far each query is behind. Spark never reads these groups back: the checkpoint stays the
truth. Plain kafka-python, no Spark import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError, NoError
from kafka.structs import OffsetAndMetadata

from streamlab.kafka_admin import AdminConnection, query_group

CLIENT_ID = "streamlab-spark-offsets"
# Commits run on the driver's listener thread: a broker that is down must not hold it long.
COMMIT_TIMEOUT_MS = 5000
NO_LEADER_EPOCH = -1

Offsets = dict[TopicPartition, OffsetAndMetadata]


class OffsetCommitError(RuntimeError):
    """The broker refused a commit; the message names the group and the partitions."""


def kafka_offsets(end_offset: Any) -> Offsets:
    """A Kafka source's endOffset ({topic: {partition: offset}}, or its JSON text) as
    offsets to commit; {} for anything else (another kind of source)."""
    if isinstance(end_offset, str):
        try:
            end_offset = json.loads(end_offset)
        except ValueError:
            return {}
    if not isinstance(end_offset, Mapping):
        return {}
    offsets: Offsets = {}
    for topic, partitions in end_offset.items():
        if not isinstance(partitions, Mapping):
            return {}
        for partition, offset in partitions.items():
            tp = TopicPartition(str(topic), int(partition))
            offsets[tp] = OffsetAndMetadata(int(offset), "", NO_LEADER_EPOCH)
    return offsets


class OffsetCommitter:
    """Not thread-safe (Spark calls listeners from one thread)."""

    def __init__(self, bootstrap: str, timeout_ms: int = COMMIT_TIMEOUT_MS) -> None:
        self._admin = AdminConnection(bootstrap, CLIENT_ID, timeout_ms)
        self._last: dict[str, Offsets] = {}

    def commit(self, query: str, offsets: Offsets) -> None:
        """Commits the offsets unless they are what was committed last; raises on failure."""
        if not offsets or self._last.get(query) == offsets:
            return
        group = query_group(query)
        try:
            answers = self._admin.client().alter_group_offsets(group, offsets)
        except KafkaError:
            self.close()
            raise
        refused = {tp: error for tp, error in answers.items() if error is not NoError}
        if refused:
            detail = ", ".join(
                f"{tp.topic}[{tp.partition}]: {e.__name__}" for tp, e in refused.items()
            )
            raise OffsetCommitError(f"the broker refused offsets of group {group}: {detail}")
        self._last[query] = offsets

    def close(self) -> None:
        self._admin.close()
