"""One lazily made Kafka admin client, dropped after a failure so the next use reconnects.

kafka-python's own reconnect back-off (up to 30 s) would otherwise hide a broker that came
back. Used by the metrics collector and the Spark job's offset commits, which share the
name of the consumer group that holds each Spark query's processed offsets.
"""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

SPARK_GROUP_PREFIX = "streamlab-spark."


def create_topic(
    admin: KafkaAdminClient, name: str, partitions: int, replication_factor: int
) -> bool:
    """Creates a topic; True if created, False if it exists (another client may have made
    it first). Other refusals raise kafka-python's KafkaError."""
    spec = {"num_partitions": partitions, "replication_factor": replication_factor}
    try:
        admin.create_topics({name: spec}, wait_for_metadata=True)
    except TopicAlreadyExistsError:
        return False
    return True


def query_group(query: str) -> str:
    """The consumer group holding a Spark query's processed offsets."""
    return f"{SPARK_GROUP_PREFIX}{query}"


class AdminConnection:
    def __init__(self, bootstrap: str, client_id: str, timeout_ms: int) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.timeout_ms = timeout_ms
        self._admin: KafkaAdminClient | None = None

    def client(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap.split(","),
                client_id=self.client_id,
                request_timeout_ms=self.timeout_ms,
                bootstrap_timeout_ms=self.timeout_ms,
            )
        return self._admin

    def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            admin.close()
