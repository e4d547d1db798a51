"""The shipped examples on the running stack: the feeds service serves the HTTP ones inside
the stack's network, each example's points reach InfluxDB, and the seeds' pipelines by spec
(cars, velib, idfm_stops) fill their topics and aggregates."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, TopicPartition
from stack import Stack, log, wait_for

EXAMPLES = ("cars", "idfm_stops", "meteo_31", "users", "velib")
OFF_BY_DEFAULT = ("cars", "users", "velib")  # velib and users: from the feeds service
# The topics each seed's spec publishes to, besides its raw and dead-letter ones.
OUTPUT_TOPICS = {
    "cars": ("cars.enriched", "cars.alerts", "cars.alert_counts"),
    "velib": ("velib.indicators",),
}
AGGREGATED = ("cars", "idfm_stops", "velib")
WITHIN_S = 600.0  # a failure guard


@pytest.fixture(scope="module", autouse=True)
def started(stack: Stack) -> None:
    for name in OFF_BY_DEFAULT:
        stack.post_stream(name, "resume")


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_s_points_reach_influxdb(stack: Stack, name: str) -> None:
    count = wait_for(
        f"points of {name}", lambda: stack.influx_count(name) or None, WITHIN_S, every=3.0
    )
    status = stack.stream(name)
    log(f"{name}: {count} points; streamer sent {status['rows_sent']}, "
        f"filtered {status['rows_filtered']}, dead-lettered {status['rows_deadlettered']}")  # fmt: skip
    assert status["state"] in ("running", "finished"), status
    if name == "velib":
        assert status["rows_filtered"] > 0  # every station but 16107 and 32017


def _records(stack: Stack, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, consumer_timeout_ms=1000)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values()) if partitions else 0
    finally:
        consumer.close()


@pytest.mark.parametrize("topic", [t for topics in OUTPUT_TOPICS.values() for t in topics])
def test_a_seed_s_output_topic_fills(stack: Stack, topic: str) -> None:
    count = wait_for(f"records in {topic}", lambda: _records(stack, topic) or None, WITHIN_S)
    log(f"{topic}: {count} records")


@pytest.mark.parametrize("name", AGGREGATED)
def test_a_seed_s_aggregates_reach_influxdb(stack: Stack, name: str) -> None:
    measurement = f"{name}_agg"
    count = wait_for(
        f"points of {measurement}", lambda: stack.influx_count(measurement) or None, WITHIN_S
    )
    log(f"{measurement}: {count} points")
