"""The Kafka view's endpoints on the real broker: the datasets' topics with their offsets,
each Spark query's lag, a topic's newest records and the newest dead letters."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

from harness.streamer import StreamerServer, create_topics, csv_spec, streamer_config
from streamlab.kafka_admin import query_group
from streamlab.kafka_offsets import spark_queries

pytestmark = pytest.mark.integration

ROWS = [
    {
        "date": f"2010-01-01 {i % 24:02d}:00",
        "station": ("seattle", "portland")[i % 2],
        "temp_f": f"{40 + i}",
    }
    for i in range(30)
]
BAD = {"date": "2010-01-02 00:00", "station": "seattle", "temp_f": "warm"}


@dataclasses.dataclass
class Lab:
    server: StreamerServer
    spec: Any
    bootstrap: str

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(f"{self.server.url}{path}", params=params, timeout=10)


@pytest.fixture(scope="module")
def lab(kafka, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    spec = csv_spec(tmp_path_factory.mktemp("rows"), [*ROWS[:10], BAD, *ROWS[10:]], rate=500)
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, lambda s: s["state"] == "finished" and s["rows_unacked"] == 0)
        yield Lab(server, spec, kafka.bootstrap)


def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """What the Spark job does after a micro-batch: the query's group commits its offsets."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
    consumer.close()


def test_topics_show_partitions_end_offsets_and_each_querys_lag(lab: Lab) -> None:
    spec = lab.spec
    before = lab.get("/kafka/topics").json()
    topics = {t["topic"]: t for t in before["topics"]}
    assert set(topics) == {name for name, _ in spec.topics}
    raw = topics[spec.raw_topic]
    assert raw["kind"] == "raw" and raw["exists"] and raw["dataset"] == spec.name
    assert len(raw["partitions"]) == spec.partitions
    assert raw["end_offset"] == len(ROWS) == sum(p["end_offset"] for p in raw["partitions"])
    assert topics[spec.deadletter_topic]["end_offset"] == 1
    queries = {q["query"]: q for q in before["queries"]}
    assert list(queries) == spark_queries(spec)  # raw_layer, sinks, each aggregation
    assert all(q["lag"] is None and q["committed_offset"] is None for q in queries.values())

    busiest = max(raw["partitions"], key=lambda p: p["end_offset"])
    done = {TopicPartition(spec.raw_topic, busiest["partition"]): busiest["end_offset"] - 4}
    _commit(lab.bootstrap, query_group(f"{spec.name}.sinks"), done)
    after = {q["query"]: q for q in lab.get("/kafka/topics").json()["queries"]}
    sinks = after[f"{spec.name}.sinks"]
    assert sinks["group"] == f"streamlab-spark.{spec.name}.sinks"
    assert sinks["committed_offset"] == busiest["end_offset"] - 4
    assert (
        sinks["end_offset"] == len(ROWS) and sinks["lag"] == len(ROWS) - sinks["committed_offset"]
    )
    assert after[f"{spec.name}.raw_layer"]["lag"] is None


def test_the_newest_records_of_a_topic_newest_first(lab: Lab) -> None:
    path = f"/kafka/topics/{lab.spec.raw_topic}/records"
    everything = lab.get(path).json()["records"]
    assert sorted(json.loads(r["value"])["seq"] for r in everything) == list(range(len(ROWS)))
    response = lab.get(path, limit=5)
    body = response.json()
    assert response.status_code == 200 and body["kind"] == "raw"
    newest = body["records"]
    assert len(newest) == 5
    stamps = [r["timestamp_ms"] for r in newest]
    assert stamps == sorted(stamps, reverse=True)
    older = [r for r in everything if r not in newest]
    assert min(stamps) >= max(r["timestamp_ms"] for r in older)
    for partition in {r["partition"] for r in newest}:
        offsets = [r["offset"] for r in newest if r["partition"] == partition]
        end = max(r["offset"] for r in everything if r["partition"] == partition) + 1
        assert offsets == list(range(end - 1, end - 1 - len(offsets), -1))
    assert all(r["key"] in ("seattle", "portland") and not r["truncated"] for r in newest)
    assert all(json.loads(r["value"])["station"] == r["key"] for r in newest)


def test_the_newest_dead_letters_with_their_reason(lab: Lab) -> None:
    letters = lab.get("/kafka/deadletters", limit=10).json()["deadletters"]
    mine = [d for d in letters if d["dataset"] == lab.spec.name]
    assert len(mine) == 1
    letter = mine[0]
    assert letter["stage"] == "streamer" and letter["topic"] == lab.spec.deadletter_topic
    assert "field 'temp_f'='warm'" in letter["reason"]
    assert json.loads(letter["record"]) == BAD


def test_only_the_datasets_topics_can_be_read(lab: Lab) -> None:
    for topic in ("__consumer_offsets", "somebody.else", lab.spec.name):
        response = lab.get(f"/kafka/topics/{topic}/records")
        assert response.status_code == 404 and response.json()["error"] == "unknown_topic"


def test_a_topic_not_yet_created_is_shown_empty(kafka, tmp_path) -> None:
    spec = csv_spec(tmp_path, ROWS[:1], rate=10)
    config = streamer_config(kafka.bootstrap, autostart="none")
    with StreamerServer(config, {spec.name: spec}) as server:
        topics = requests.get(f"{server.url}/kafka/topics", timeout=10).json()["topics"]
        assert {t["topic"]: t["exists"] for t in topics} == dict.fromkeys(
            (name for name, _ in spec.topics), False
        )
        records = requests.get(f"{server.url}/kafka/topics/{spec.raw_topic}/records", timeout=10)
        assert records.status_code == 200 and records.json()["records"] == []


def test_a_broker_that_does_not_answer_is_a_503(tmp_path) -> None:
    spec = csv_spec(tmp_path, ROWS[:1], rate=10)
    config = streamer_config("127.0.0.1:9", autostart="none")
    config = dataclasses.replace(
        config, api=dataclasses.replace(config.api, kafka_view_timeout_s=1)
    )
    with StreamerServer(config, {spec.name: spec}) as server:
        for path in ("/kafka/topics", "/kafka/deadletters"):
            response = requests.get(f"{server.url}{path}", timeout=10)
            body = response.json()
            assert response.status_code == 503 and body["error"] == "kafka_unavailable"
            assert "127.0.0.1:9" in body["message"]
