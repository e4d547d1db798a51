"""The one shared sinks query on real Kafka, HDFS, Spark and InfluxDB: every started
dataset's rows routed to its own sinks, and a stack whose datasets had sinks queries of
their own (before the shared query) carried on from their committed offsets, not from the
start of each topic."""

from __future__ import annotations

import datetime as dt
import json

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from harness.spark import settings_job_config
from harness.streamer import (
    StreamerServer,
    create_topics,
    csv_spec,
    read_topic,
    streamer_config,
)
from sparkjob.job import start
from sparkjob.offsets import OffsetCommitter
from streamlab.influx import point_time_ns
from streamlab.waiting import wait_for

ROWS = 600


def _rows(count: int) -> list[dict[str, str]]:
    stations = ("seattle", "portland", "boston")
    return [
        {"date": f"2010-03-01 {i // 3 % 24:02d}:00", "station": stations[i % 3],
         "temp_f": f"{40 + i % 30}.5"}
        for i in range(count)
    ]  # fmt: skip


def _sent(kafka, spec) -> None:
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, lambda s: s["state"] == "finished", 120)


def _half_committed(kafka, spec) -> set[int]:
    """Commits half of each partition to <dataset>.sinks, as a former query of its own
    would have; the point times of the rows past those offsets."""
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap)
    partitions = [
        TopicPartition(spec.raw_topic, p) for p in consumer.partitions_for_topic(spec.raw_topic)
    ]
    ends = consumer.end_offsets(partitions)
    consumer.close()
    halves = {tp: end // 2 for tp, end in ends.items()}
    committer = OffsetCommitter(kafka.bootstrap)
    offsets = {tp: OffsetAndMetadata(o, "", -1) for tp, o in halves.items()}
    # A new broker answers CoordinatorNotAvailable until its offsets topic exists.
    commit = lambda: committer.commit(f"{spec.name}.sinks", offsets) or True  # noqa: E731
    wait_for(commit, "the commit of half the offsets", 60, retry=(KafkaError,))
    committer.close()
    records = read_topic(kafka.bootstrap, spec.raw_topic, expected=ROWS)
    return {
        _point_time(json.loads(r.value))
        for r in records
        if r.offset >= halves[TopicPartition(r.topic, r.partition)]
    }


def _point_time(message: dict) -> int:
    sent = dt.datetime.fromisoformat(message["ts"].replace("Z", "+00:00"))
    micros = (sent - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return point_time_ns(micros, message["seq"])


def test_datasets_are_routed_and_committed_offsets_are_where_an_upgrade_starts(
    spark, kafka, hdfs, influx, tmp_path
) -> None:
    upgraded = csv_spec(tmp_path, _rows(ROWS), rate=5000, at_end="stop")
    fresh = csv_spec(tmp_path, _rows(ROWS // 2), rate=5000, at_end="stop")
    idle = csv_spec(tmp_path, _rows(10), rate=5000, at_end="stop")  # started: no dataset
    for spec in (upgraded, fresh, idle):
        _sent(kafka, spec)
    expected = _half_committed(kafka, upgraded)
    assert 0 < len(expected) < ROWS

    config = settings_job_config(
        datasets_dir=tmp_path, master="local[2]", kafka_bootstrap=kafka.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/shared/{upgraded.name}/raw",
        checkpoint_uri=f"{hdfs.uri}/shared/{upgraded.name}/checkpoints",
        influx_url=influx.url, influx_org="streamlab", influx_bucket="streamlab",
        pipeline_bucket="pipeline", token_file=tmp_path / "unused.token",
        trigger_interval="1 second", raw_layer_trigger_interval="5 seconds",
    )  # fmt: skip
    queries = start(spark, {upgraded.name: upgraded, fresh.name: fresh}, config, influx.write_token)
    try:
        names = {q.name for q in queries}
        assert [n for n in names if n.endswith(".sinks")] == ["_datasets.sinks"]
        assert {f"{upgraded.name}.raw_layer", f"{fresh.name}.raw_layer"} <= names
        wait_for(lambda: influx.count(fresh.name) >= ROWS // 2, "the fresh dataset's points", 300)
        wait_for(lambda: influx.count(upgraded.name) >= len(expected), "the upgraded one's", 300)
    finally:
        for query in queries:
            query.stop()

    assert influx.count(fresh.name) == ROWS // 2  # from its first offset
    stored = [p["time_ns"] for p in influx.points(upgraded.name)]
    assert sorted(stored) == sorted(expected)  # exactly the rows past the committed offsets
    assert influx.count(idle.name) == 0  # its topic matched no started dataset: not read
    progress = {p["tags"]["query"] for p in influx.points("spark_query", bucket="pipeline")}
    assert {f"{upgraded.name}.sinks", f"{fresh.name}.sinks"} <= progress
