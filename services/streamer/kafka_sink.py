"""The one Kafka producer of the streamer, connected lazily and reconnected after failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2

from .config import ProducerConfig


class KafkaUnavailable(RuntimeError):
    """Kafka cannot be reached (or a topic is missing); the message says what to do."""


class KafkaSink:
    def __init__(
        self,
        config: ProducerConfig,
        retry_s: float = 2.0,
        factory: Callable[..., Any] = KafkaProducer,
    ) -> None:
        self.config = config
        self.retry_s = retry_s
        self._factory = factory
        self._producer: Any = None
        self._lock = threading.Lock()
        self._next_attempt = 0.0
        self.last_error: str | None = None

    def producer(self) -> Any:
        """The connected producer; raises KafkaUnavailable while Kafka cannot be reached."""
        with self._lock:
            if self._producer is not None:
                return self._producer
            if time.monotonic() < self._next_attempt:
                raise KafkaUnavailable(self.last_error or "connecting to Kafka")
            try:
                self._producer = self._factory(**self.config.kafka_kwargs())
                self.last_error = None
            except (KafkaError, OSError) as error:
                self._next_attempt = time.monotonic() + self.retry_s
                self.last_error = (
                    f"cannot reach Kafka at {self.config.bootstrap_servers} ({error}); "
                    "retrying: check that the broker is up and KAFKA_BOOTSTRAP_SERVERS is right"
                )
                raise KafkaUnavailable(self.last_error) from None
            return self._producer

    def check_topic(self, topic: str) -> None:
        """Raises KafkaUnavailable naming the topic when it does not exist."""
        try:
            partitions = self.producer().partitions_for(topic)
        except KafkaError:
            partitions = None
        if not partitions:
            raise KafkaUnavailable(
                f"topic {topic} does not exist: run the provisioner "
                "(python -m provisioning) or create it with kafka-topics"
            )

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.flush(timeout)
            finally:
                producer.close(timeout)


class KeyPartitions:
    """The partition of each record, chosen here rather than by the producer so that a
    restarted streamer can tell which partition a row went to (resume.py).

    A keyed record goes where Kafka's default partitioner puts it (murmur2), cached: a
    stream has few distinct keys and kafka-python hashes in pure Python. Keyless rows go to
    the partitions in turn, KEYLESS_BLOCK rows at a time, so batches stay large.
    """

    KEYLESS_BLOCK = 1000

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bytes], int] = {}
        self._partitions: dict[str, list[int]] = {}

    def partition(self, producer: Any, topic: str, key: bytes | None, seq: int) -> int:
        if key is None:
            partitions = self._of(producer, topic)
            return partitions[(seq // self.KEYLESS_BLOCK) % len(partitions)]
        cached = self._cache.get((topic, key))
        if cached is None:
            partitions = self._of(producer, topic)
            cached = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
            self._cache[(topic, key)] = cached
        return cached

    def _of(self, producer: Any, topic: str) -> list[int]:
        if topic not in self._partitions:
            self._partitions[topic] = sorted(producer.partitions_for(topic))
        return self._partitions[topic]
