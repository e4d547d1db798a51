"""The harness runs a real, durable Kafka: what is acknowledged is read back, across restarts."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from harness.kafka import KafkaBroker

pytestmark = pytest.mark.integration


def produce(producer: KafkaProducer, topic: str, values: list[bytes]) -> None:
    futures = [producer.send(topic, value) for value in values]
    producer.flush(timeout=60)
    for future in futures:
        future.get(timeout=1)


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list[bytes]:
    """Every record of partition 0 from the beginning, waiting for at least `expected`."""
    partition = TopicPartition(topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(record.value for record in records)
        assert consumer.end_offsets([partition])[partition] == len(values)
        return values
    finally:
        consumer.close()


def messages(start: int, stop: int) -> list[bytes]:
    return [f"message-{i}".encode() for i in range(start, stop)]


def test_produced_messages_are_consumed_back_exactly(kafka: KafkaBroker, new_topic: str) -> None:
    sent = messages(0, 2000)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=5)
    try:
        produce(producer, new_topic, sent)
    finally:
        producer.close()

    assert consume_all(kafka.bootstrap, new_topic, len(sent)) == sent


@pytest.mark.parametrize("how", ["graceful", "crash"])
def test_data_and_bootstrap_survive_a_restart(
    private_kafka: Callable[..., KafkaBroker], topic_factory: Callable[..., str], how: str
) -> None:
    broker = private_kafka()
    topic = topic_factory(broker=broker)
    bootstrap, log_dir = broker.bootstrap, broker.log_dir
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        produce(producer, topic, messages(0, 500))
        if how == "crash":
            broker.kill()
            broker.start()
        else:
            broker.restart()
        assert (broker.bootstrap, broker.log_dir) == (bootstrap, log_dir)
        # The producer from before the restart reconnects through the same address.
        produce(producer, topic, messages(500, 1000))
    finally:
        producer.close()

    assert consume_all(bootstrap, topic, 1000) == messages(0, 1000)


def test_a_stopped_broker_refuses_connections(private_kafka: Callable[..., KafkaBroker]) -> None:
    broker = private_kafka()
    broker.stop()

    assert not broker.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", broker.port), timeout=5).close()
    with pytest.raises(KafkaError):
        KafkaAdminClient(bootstrap_servers=broker.bootstrap, bootstrap_timeout_ms=2000)


def test_kafka_cli_tools_run_against_the_broker(kafka: KafkaBroker, new_topic: str) -> None:
    command = kafka.tool_command(
        "org.apache.kafka.tools.ProducerPerformance",
        *("--topic", new_topic, "--num-records", "1000", "--record-size", "100"),
        *("--throughput", "-1", "--producer-props", f"bootstrap.servers={kafka.bootstrap}"),
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert "1000 records sent" in result.stdout
    assert len(consume_all(kafka.bootstrap, new_topic, 1000)) == 1000
