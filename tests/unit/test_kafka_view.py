"""What the Kafka view shows of a record and of a dead letter (no broker: records as
kafka-python returns them)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from harness.streamer import unique_spec
from streamer.config import ApiLimits
from streamer.kafka_view import KafkaView, deadletter_view, record_view
from streamlab.settings import Settings

SPEC = unique_spec("temps")
LIMITS = ApiLimits.from_settings(Settings.load())
MOST = 16


def _record(value: bytes | None, key: bytes | None = None, topic: str = SPEC.deadletter_topic):
    return SimpleNamespace(topic=topic, partition=1, offset=7, timestamp=1000, key=key, value=value)


def test_only_the_datasets_topics_are_known() -> None:
    view = KafkaView("127.0.0.1:9", {SPEC.name: SPEC}, LIMITS)
    assert {name: t.kind for name, t in view.topics.items()} == dict(SPEC.topics)


def test_a_record_is_text_cut_to_the_limit() -> None:
    shown = record_view(_record("é".encode() * 20, b"seattle", SPEC.raw_topic), MOST)
    assert shown["key"] == "seattle" and shown["value"] == "é" * 8
    assert shown["value_bytes"] == 40 and shown["truncated"]
    empty = record_view(_record(None, topic=SPEC.raw_topic), MOST)
    assert empty["value"] is None and empty["value_bytes"] == 0 and not empty["truncated"]


def test_a_dead_letter_of_the_spark_stage() -> None:
    message = {"dataset": SPEC.name, "reason": "bad ts", "record": {"a": 1}, "stage": "spark"}
    shown = deadletter_view(_record(json.dumps(message).encode()), MOST, SPEC.name)
    assert shown["reason"] == "bad ts" and shown["stage"] == "spark"
    assert shown["record"] == '{"a": 1}' and shown["at"] is None
    assert shown["dataset"] == SPEC.name and shown["topic"] == SPEC.deadletter_topic


def test_anything_else_on_a_dead_letter_topic_shows_as_the_record() -> None:
    for value in (b"not json", b"[1, 2]", b"[" * 5000):
        shown = deadletter_view(_record(value), MOST, SPEC.name)
        assert shown["reason"] is None and shown["dataset"] == SPEC.name
        assert shown["record"] == value[:16].decode()
