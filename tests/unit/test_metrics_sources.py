"""The collector's sources: service JSON to points, as pipeline_schema declares them."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from metrics.config import MetricsConfig
from metrics.points import Point, SourceError
from metrics.sources import hdfs, spark_master, streamer, yarn
from metrics.sources.build import build_sources
from metrics.sources.http import HttpJsonSource
from metrics.sources.kafka import dataset_topics, lag_points, topic_points
from provisioning.kafka_topics import wanted_topics
from sparkjob.offsets import kafka_offsets
from streamlab.kafka_offsets import spark_queries
from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.settings import Settings, SettingsError
from streamlab.specs import load_specs, parse_spec

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def _stream(name: str, mode: str, value: float, per_s: float | None, state: str) -> dict:
    """One entry of the streamer's GET /streams (streamer.stream.Stream.status)."""
    return {
        "name": name, "state": state, "error": None,
        "rate": {"mode": mode, "value": value, "rows_per_second": per_s},
        "achieved_rows_per_second": 12.5, "rows_sent": 100, "rows_acked": 99,
        "rows_deadlettered": 3, "rows_filtered": 7, "topic": f"{name}.raw",
    }  # fmt: skip


# A real Spark 4.0 standalone master's /json/ (one worker stopped for the test).
SPARK_MASTER_JSON = {
    "url": "spark://127.0.0.1:7077",
    "workers": [
        {"id": "worker-1", "host": "127.0.0.1", "port": 33291, "cores": 2, "coresused": 1,
         "coresfree": 1, "memory": 1024, "memoryused": 512, "memoryfree": 512,
         "resources": {}, "resourcesused": {}, "resourcesfree": {}, "state": "ALIVE",
         "lastheartbeat": 1795354382655},
        {"id": "worker-2", "host": "127.0.0.1", "port": 33292, "cores": 1, "coresused": 0,
         "coresfree": 1, "memory": 512, "memoryused": 0, "memoryfree": 512,
         "resources": {}, "resourcesused": {}, "resourcesfree": {}, "state": "DEAD",
         "lastheartbeat": 1795354382655},
    ],
    "aliveworkers": 1, "cores": 2, "coresused": 1, "memory": 1024, "memoryused": 512,
    "resources": [{}], "resourcesused": [{}],
    "activeapps": [{"id": "app-1", "name": "streamlab"}], "completedapps": [],
    "activedrivers": [], "completeddrivers": [], "status": "ALIVE",
}  # fmt: skip

YARN_JSON = {"clusterMetrics": {
    "appsPending": 1, "appsRunning": 2, "allocatedMB": 1536, "totalMB": 2048,
    "allocatedVirtualCores": 2, "totalVirtualCores": 2, "activeNodes": 1, "lostNodes": 0,
}}  # fmt: skip

JMX_JSON = {"beans": [{
    "name": "Hadoop:service=NameNode,name=FSNamesystemState", "CapacityTotal": 1000,
    "CapacityUsed": 10, "CapacityRemaining": 900, "NumLiveDataNodes": 1,
    "NumDeadDataNodes": 0, "FSState": "Operational",
}]}  # fmt: skip


def _assert_declared(points: list[Point]) -> None:
    """Tags and fields as pipeline_schema declares them, all of them (no None left)."""
    for point in points:
        declared = MEASUREMENTS[point.measurement]
        assert set(point.tags) == declared.tags, point
        assert {k for k, v in point.fields.items() if v is not None} == declared.fields, point


def test_streamer_points_per_stream() -> None:
    data = {"streams": [
        _stream("weather", "rows_per_second", 200, 200.0, "running"),
        _stream("temps", "interval_s", 2, 0.5, "paused"),
        _stream("bikes", "speedup", 60, None, "running"),
    ]}  # fmt: skip
    points = streamer.stream_points(data)
    _assert_declared(points[:2])
    fields = {p.tags["stream"]: p.fields for p in points}
    assert fields["weather"] == {
        "asked_rows_per_s": 200.0, "achieved_rows_per_s": 12.5, "rows_sent": 100,
        "rows_deadlettered": 3, "rows_filtered": 7, "state": "running", "running": 1,
    }  # fmt: skip
    assert (fields["temps"]["asked_rows_per_s"], fields["temps"]["running"]) == (0.5, 0)
    # Speed-up mode: the data sets the pace, no asked rows/s.
    assert fields["bikes"]["asked_rows_per_s"] is None


def test_cluster_points_from_yarn_hdfs_and_the_spark_master() -> None:
    points = [
        *yarn.cluster_points(YARN_JSON),
        *hdfs.namenode_points(JMX_JSON),
        *spark_master.master_points(SPARK_MASTER_JSON),
    ]
    _assert_declared(points)
    fields = {p.measurement: p.fields for p in points}
    assert fields["yarn_cluster"] == {
        "memory_used_mb": 1536, "memory_total_mb": 2048, "vcores_used": 2, "vcores_total": 2,
        "apps_running": 2, "apps_pending": 1, "nodes_active": 1,
    }  # fmt: skip
    assert fields["hdfs_cluster"]["capacity_remaining_bytes"] == 900
    assert fields["hdfs_cluster"]["live_datanodes"] == 1
    # Only ALIVE workers count.
    assert fields["spark_standalone"] == {
        "workers_alive": 1, "cores_total": 2, "cores_used": 1, "memory_total_mb": 1024,
        "memory_used_mb": 512, "apps_running": 1,
    }  # fmt: skip


def test_kafka_topics_and_lag_from_offsets() -> None:
    specs = load_specs(DATASETS, Settings.load().values)
    temps = specs["temps"]
    raw = [TopicPartition(temps.raw_topic, p) for p in range(2)]
    ends = {raw[0]: 60, raw[1]: 40, TopicPartition(temps.deadletter_topic, 0): 2}
    committed = {
        "streamlab-spark.temps.sinks": {raw[0]: 50, raw[1]: -1},  # partition 1: no commit yet
        "streamlab-spark.temps.raw_layer": {raw[0]: -1, raw[1]: -1},  # never committed
    }
    topics = topic_points(dataset_topics(specs), ends)
    lags = lag_points(specs, ends, committed)
    _assert_declared(topics + lags)
    assert [(p.tags["topic"], p.tags["kind"], p.fields) for p in topics] == [
        ("temps.raw", "raw", {"end_offset": 100, "partitions": 2}),
        ("temps.deadletter", "deadletter", {"end_offset": 2, "partitions": 1}),
    ]
    assert [(p.tags["group"], p.fields) for p in lags] == [
        ("streamlab-spark.temps.sinks", {"lag": 50, "committed_offset": 50, "end_offset": 100})
    ]


# Topics and queries beyond the three every dataset has: enriched rows, an aggregation to
# Kafka (named), another to InfluxDB only (agg1: its default name).
PROCESSED_SPEC = """\
name: meters
source:
  type: synthetic
  tag_values: {meter: [m1, m2]}
  generators:
    watts: {kind: uniform, low: 0, high: 100}
tags: [meter]
fields: {watts: float}
topic: {partitions: 2}
enriched: true
aggregations:
  - name: hourly
    window: 1 hours
    functions: [avg]
    outputs: [influxdb, kafka]
  - window: 1 minutes
    functions: [max]
"""


def test_the_collector_reads_every_topic_the_provisioner_creates() -> None:
    spec = parse_spec(yaml.safe_load(PROCESSED_SPEC), DATASETS / "meters.yaml", {})
    specs = {spec.name: spec}
    topics = [(t.name, t.dataset, t.kind) for t in dataset_topics(specs)]
    assert topics == [
        ("meters.raw", "meters", "raw"),
        ("meters.deadletter", "meters", "deadletter"),
        ("meters.alerts", "meters", "alerts"),
        ("meters.enriched", "meters", "enriched"),
        ("meters.hourly", "meters", "aggregate"),
    ]
    assert wanted_topics(specs) == {name: 2 for name, _, _ in topics}
    everything = load_specs(DATASETS, Settings.load().values)
    assert set(wanted_topics(everything)) == {t.name for t in dataset_topics(everything)}


def test_aggregate_queries_are_named_after_their_aggregation() -> None:
    spec = parse_spec(yaml.safe_load(PROCESSED_SPEC), DATASETS / "meters.yaml", {})
    assert spark_queries(spec) == [
        "meters.raw_layer",
        "meters.sinks",
        "meters.hourly",
        "meters.agg1",
    ]
    raw = [TopicPartition(spec.raw_topic, p) for p in range(2)]
    ends = {raw[0]: 10, raw[1]: 10}
    committed = {"streamlab-spark.meters.hourly": {raw[0]: 4, raw[1]: 6}}
    (lag,) = lag_points({spec.name: spec}, ends, committed)
    assert lag.tags["group"] == "streamlab-spark.meters.hourly"
    assert lag.fields == {"lag": 10, "committed_offset": 10, "end_offset": 20}


def test_spark_end_offsets_to_commit() -> None:
    offsets = kafka_offsets({"temps.raw": {"0": 12, "1": 30}})
    assert {(tp.partition, meta.offset, meta.leader_epoch) for tp, meta in offsets.items()} == {
        (0, 12, -1),
        (1, 30, -1),
    }
    assert kafka_offsets('{"t": {"0": 5}}') == {
        TopicPartition("t", 0): OffsetAndMetadata(5, "", -1)
    }
    assert kafka_offsets(None) == kafka_offsets("not json") == kafka_offsets({"t": 3}) == {}


# -- HTTP sources against a local server -----------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path, (404, b"no such page"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.routes = {
        "/ws/v1/cluster/metrics": (200, json.dumps(YARN_JSON).encode()),
        "/garbage": (200, b"<html>not json</html>"),
        "/shape": (200, b'{"clusterMetrics": {}}'),
        "/broken": (500, b"NullPointerException"),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_http_source_answers_and_failures(server: str) -> None:
    ok = HttpJsonSource("yarn", server + yarn.PATH, yarn.cluster_points, 2.0).poll()
    assert ok.points[0].fields["nodes_active"] == 1 and ok.response_ms > 0
    for path, message in (
        ("/garbage", "answered no JSON"),
        ("/shape", "unexpected shape (KeyError"),
        ("/broken", "answered HTTP 500: NullPointerException"),
    ):
        with pytest.raises(SourceError, match=re.escape(message)) as caught:
            HttpJsonSource("yarn", server + path, yarn.cluster_points, 2.0).poll()
        assert caught.value.response_ms is not None  # it did answer
    nowhere = server.rsplit(":", 1)[0] + ":9"
    with pytest.raises(SourceError, match="cannot connect") as caught:
        HttpJsonSource("yarn", nowhere, yarn.cluster_points, 2.0).poll()
    assert caught.value.response_ms is None


# -- configuration -------------------------------------------------------------------------


def _settings(**values: str) -> Settings:
    """settings.env with these values over it."""
    return Settings.load(DATASETS.parent / "settings.env", environ=values)


def test_sources_with_an_address_are_polled() -> None:
    settings = _settings(
        STREAMER_URL="http://s:8000/", KAFKA_BOOTSTRAP_SERVERS="", YARN_RM_URL="",
        WEBHDFS_URL="", SPARK_MASTER_UI_URL="http://m",
    )  # fmt: skip
    config = MetricsConfig.from_settings(settings)
    assert config.streamer_url == "http://s:8000"
    names = [s.name for s in build_sources(config, {})]
    assert names == ["streamer", "spark_master"]


def test_a_timeout_not_below_the_interval_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"METRICS_TIMEOUT_S=5\.0 must be above 0 and below"):
        MetricsConfig.from_settings(_settings(METRICS_INTERVAL_S="5", METRICS_TIMEOUT_S="5"))
