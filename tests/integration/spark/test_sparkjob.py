"""The Spark job on real Kafka, HDFS, Spark (local mode) and InfluxDB."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from kafka import KafkaProducer

from harness.influx import InfluxLab
from harness.spark import settings_job_config
from harness.streamer import (
    StreamerServer,
    create_topics,
    csv_spec,
    read_topic,
    streamer_config,
    values,
)
from metrics.sources.kafka import KafkaSource
from sparkjob.config import JobConfig
from sparkjob.job import start
from streamlab.kafka_admin import query_group
from streamlab.waiting import wait_for

pytestmark = pytest.mark.integration

STATIONS = ("seattle", "san_francisco", "portland")


def _rows(count: int) -> list[dict[str, str]]:
    # Every 50th row is hot, above the spec's alert threshold (temp_f > 85).
    return [
        {"date": f"2010-03-01 {i // 3 % 24:02d}:00", "station": STATIONS[i % 3],
         "temp_f": "90.5" if i % 50 == 0 else f"{40 + i % 30}.25"}
        for i in range(count)
    ]  # fmt: skip


BAD_RECORDS = [
    b"this is not json",
    b'{"ts": "2026-01-01T00:00:00.000000Z", "seq": 1, "station": "x", "temp_f": "warm"}',
    b'{"ts": "yesterday", "seq": 2, "station": "x", "temp_f": 1.0}',
    b'{"ts": "2026-01-01T00:00:00.000000Z", "seq": 3, "temp_f": 1.0}',
]


def _config(hdfs, kafka, influx: InfluxLab, tmp: Path, name: str) -> JobConfig:
    return settings_job_config(
        datasets_dir=tmp,
        master="local[2]",
        kafka_bootstrap=kafka.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/streamlab/{name}/raw",
        checkpoint_uri=f"{hdfs.uri}/streamlab/{name}/checkpoints",
        influx_url=influx.url,
        influx_org="streamlab",
        influx_bucket="streamlab",
        pipeline_bucket="pipeline",
        token_file=tmp / "unused.token",
        trigger_interval="1 second",
        raw_layer_trigger_interval="1 second",
        max_offsets_per_trigger=400,
    )


def _sinks_offsets(bootstrap: str, spec) -> dict | None:
    """The sinks query's kafka_lag fields, as the metrics collector reads them."""
    source = KafkaSource(bootstrap, {spec.name: spec}, timeout_s=5)
    try:
        points = source.poll().points
    finally:
        source.close()
    group = query_group(f"{spec.name}.sinks")
    lags = [p.fields for p in points if p.measurement == "kafka_lag" and p.tags["group"] == group]
    return lags[0] if lags else None


def _sinks_lag(bootstrap: str, spec) -> dict | None:
    """The sinks query's kafka_lag fields once its lag is 0."""
    offsets = _sinks_offsets(bootstrap, spec)
    return offsets if offsets and offsets["lag"] == 0 else None


def _past_bad_records(bootstrap: str, spec) -> bool:
    """The batch holding BAD_RECORDS (sent before any row) is committed: its dead letters,
    at least once by design, are not sent again by a stop that interrupts a later batch."""
    offsets = _sinks_offsets(bootstrap, spec)
    return bool(offsets) and offsets["committed_offset"] > len(BAD_RECORDS)


def _stop(queries) -> None:
    for query in queries:
        query.stop()


def _write_rows(spec, rows: list[dict[str, str]]) -> None:
    """Rewrites the spec's CSV with these rows (the first of them as before)."""
    with open(spec.source.path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["date", "station", "temp_f"])
        writer.writeheader()
        writer.writerows(rows)


def test_stream_to_hdfs_and_influx_with_restart(spark, kafka, hdfs, influx, tmp_path) -> None:
    count = 1500
    first = count // 2
    # The stop mid-stream is made to happen, not raced for: the file holds the first half
    # while the job runs; the second half is sent by a streamer that resumes from Kafka
    # while the job is down.
    spec = csv_spec(tmp_path, _rows(first), rate=300)
    create_topics(kafka, spec)
    config = _config(hdfs, kafka, influx, tmp_path, spec.name)
    queries = start(spark, {spec.name: spec}, config, influx.write_token)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap)
    for record in BAD_RECORDS:
        producer.send(spec.raw_topic, record)
    producer.flush()
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, lambda s: s["state"] == "finished", timeout=120)
    wait_for(lambda: len(influx.points(spec.name)) >= 300, "the first points", 300)
    wait_for(lambda: _past_bad_records(kafka.bootstrap, spec), "the bad records' batch", 300)
    _stop(queries)
    assert len(influx.points(spec.name)) <= first < count
    _write_rows(spec, _rows(count))
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        # Its counters carry on from what Kafka held: the first half counts as acked.
        server.wait_for(
            spec.name, lambda s: s["state"] == "finished" and s["rows_acked"] == count, 120
        )
    queries = start(spark, {spec.name: spec}, config, influx.write_token)
    try:
        wait_for(lambda: len(influx.points(spec.name)) >= count, f"{count} points", 300)
        parquet = lambda: spark.read.parquet(config.raw_path(spec.name))  # noqa: E731
        wait_for(lambda: parquet().count() >= count, f"{count} Parquet rows", 300)
        time.sleep(3)  # any duplicate would arrive with the next triggers
        wait_for(lambda: _sinks_lag(kafka.bootstrap, spec), "the sinks query's lag at 0", 120)
    finally:
        _stop(queries)
    # The job committed what it processed to streamlab-spark.<query>: all of the raw topic.
    end = count + len(BAD_RECORDS)
    assert _sinks_lag(kafka.bootstrap, spec) == {
        "lag": 0,
        "committed_offset": end,
        "end_offset": end,
    }

    points = influx.points(spec.name)
    assert len(points) == count
    raw = read_topic(kafka.bootstrap, spec.raw_topic, expected=count + len(BAD_RECORDS))
    sent = [json.loads(r.value) for r in raw if r.value not in BAD_RECORDS]
    expected = sorted((m["station"], m["temp_f"]) for m in sent)
    assert sorted((p["tags"]["station"], p["fields"]["temp_f"]) for p in points) == expected

    rows = parquet().collect()
    assert len(rows) == count and sorted(r["seq"] for r in rows) == list(range(count))
    # Partitioned by the UTC date of each row's event time (send time here: today, or
    # yesterday too when the test runs across midnight).
    utc_date = lambda r: dt.datetime.fromtimestamp(r["ts_us"] / 1e6, dt.UTC).date()  # noqa: E731
    assert all(r["date"] == utc_date(r) for r in rows)
    assert {r["date"] for r in rows} <= {
        dt.datetime.now(dt.UTC).date() - dt.timedelta(days=d) for d in (0, 1)
    }
    partitions = hdfs.ls(config.raw_path(spec.name).replace(hdfs.uri, ""))
    assert any("date=" in line for line in partitions)

    dead = [
        json.loads(r.value) for r in read_topic(kafka.bootstrap, spec.deadletter_topic, expected=4)
    ]
    spark_dead = [d for d in dead if d.get("stage") == "spark"]
    assert sorted(d["record"] for d in spark_dead) == sorted(r.decode() for r in BAD_RECORDS)
    reasons = {d["record"]: d["reason"] for d in spark_dead}
    assert reasons["this is not json"] == "the value is not a JSON object"
    assert "field 'temp_f'=warm is not a double" in reasons[BAD_RECORDS[1].decode()]
    assert "is not a timestamp" in reasons[BAD_RECORDS[2].decode()]
    assert reasons[BAD_RECORDS[3].decode()] == "tag 'station' is missing"

    hot = sum(1 for r in _rows(count) if float(r["temp_f"]) > 85)
    alerts = values(read_topic(kafka.bootstrap, spec.alerts_topic, expected=hot))
    assert len({a["seq"] for a in alerts}) == hot
    assert all(a["alert"] == "heat" and a["value"] > 85 for a in alerts)
    assert {a["rule"] for a in alerts} == {"temp_f > 85"}
    # The same alerts as <dataset>_alerts points, at their rows' point times: one per alert
    # even where a re-run batch sent an alert to Kafka twice.
    alert_points = influx.points(f"{spec.name}_alerts")
    assert len(alert_points) == len({a["seq"] for a in alerts})
    hot_points = {
        (p["tags"]["station"], p["time_ns"]) for p in points if p["fields"]["temp_f"] > 85
    }
    assert {(p["tags"]["station"], p["time_ns"]) for p in alert_points} == hot_points
    for point in alert_points:
        assert point["tags"]["alert"] == "heat"
        assert point["fields"] == {"value": 90.5, "threshold": 85.0, "fired": 1}
        assert point["field_types"] == {"value": "float", "threshold": "float", "fired": "integer"}

    aggregates = influx.points(f"{spec.name}_agg")
    assert aggregates, "no aggregate points"
    assert {p["tags"]["window"] for p in aggregates} == {"60s"}
    assert sum(p["fields"]["temp_f_count"] for p in aggregates) <= count
    progress = influx.points("spark_query", bucket="pipeline")
    assert {p["tags"]["query"] for p in progress} >= {
        f"{spec.name}.raw_layer",
        f"{spec.name}.sinks",
    }
    sinks = influx.points("spark_sink", bucket="pipeline")
    assert sum(p["fields"]["points_written"] for p in sinks) >= count
