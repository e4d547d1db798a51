"""The metrics collector against the real streamer, Kafka, YARN and HDFS, writing to a
real InfluxDB: what it writes matches the services and pipeline_schema, and a source that
goes down is written as down while the others carry on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from harness import process
from harness.hdfs import HdfsCluster
from harness.influx import ORG, PIPELINE_BUCKET, InfluxLab
from harness.kafka import KafkaBroker, ZooKeeperServer
from harness.streamer import StreamerServer, create_topics, csv_spec, streamer_config
from harness.yarn import NODE_MEMORY_MB, NODE_VCORES, YarnCluster
from metrics.__main__ import build_collector
from metrics.config import MetricsConfig
from streamlab.kafka_admin import query_group
from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.specs import DatasetSpec
from streamlab.waiting import wait_for

pytestmark = pytest.mark.integration

ROWS, BAD_ROWS = 200, 5
INTERVAL_S, TIMEOUT_S = 1.0, 0.9
WAIT_S = 60.0


# -- services ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker(kafka_jars: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A broker of this module's own: the tests stop and restart it."""
    with ZooKeeperServer(kafka_jars, tmp_path_factory.mktemp("metrics-zk")) as zk:
        workdir = tmp_path_factory.mktemp("metrics-kafka")
        with KafkaBroker(kafka_jars, zk, workdir) as server:
            yield server


@pytest.fixture(scope="module")
def yarn(hadoop_jars: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[YarnCluster]:
    with YarnCluster(hadoop_jars, tmp_path_factory.mktemp("yarn")) as cluster:
        yield cluster


def _rows() -> list[dict[str, str]]:
    """ROWS valid rows, then BAD_ROWS that the streamer dead-letters."""
    good = [
        {"date": f"2010-03-01 {i % 24:02d}:00", "station": "seattle", "temp_f": f"{40 + i % 30}.5"}
        for i in range(ROWS)
    ]
    return good + [{"date": "2010-03-02 00:00", "station": "x", "temp_f": "warm"}] * BAD_ROWS


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory, broker: KafkaBroker) -> DatasetSpec:
    spec = csv_spec(tmp_path_factory.mktemp("metrics-rows"), _rows(), rate=1000)
    create_topics(broker, spec)
    return spec


@pytest.fixture(scope="module")
def streamer(broker: KafkaBroker, spec: DatasetSpec) -> Iterator[StreamerServer]:
    """The real streamer, its one stream sent to the end: every counter stable from then on
    (the achieved rate too, once its 2 s window has passed)."""
    with StreamerServer(streamer_config(broker.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, _finished)
        yield server


def _finished(status: dict[str, Any]) -> bool:
    return (
        status["state"] == "finished"
        and (status["rows_acked"], status["rows_unacked"]) == (ROWS, 0)
        and status["achieved_rows_per_second"] == 0
    )


# -- the collector -----------------------------------------------------------------------


# Every source is off unless a test gives its address.
NO_SOURCES = dict.fromkeys(
    ("streamer_url", "kafka_bootstrap", "yarn_rm_url", "webhdfs_url", "spark_master_ui_url"), ""
)


def _config(influx: InfluxLab, tmp: Path, **urls: str) -> MetricsConfig:
    return MetricsConfig(
        datasets_dir=tmp,
        influx_url=influx.url,
        influx_org=ORG,
        pipeline_bucket=PIPELINE_BUCKET,
        token_file=tmp / "unused.token",
        influx_batch_size=1000,
        interval_s=INTERVAL_S,
        timeout_s=TIMEOUT_S,
        heartbeat_file="",
        **{**NO_SOURCES, **urls},
    )


@contextmanager
def _collecting(config: MetricsConfig, spec: DatasetSpec, token: str) -> Iterator[None]:
    """python -m metrics' loop, in a thread of this process."""
    collector = build_collector(config, {spec.name: spec}, token)
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def _points(influx: InfluxLab, measurement: str, **tags: str) -> list[dict[str, Any]]:
    points = influx.points(measurement, bucket=PIPELINE_BUCKET)
    return [p for p in points if all(p["tags"].get(k) == v for k, v in tags.items())]


def _latest(influx: InfluxLab, measurement: str, **tags: str) -> dict[str, Any] | None:
    points = _points(influx, measurement, **tags)
    return max(points, key=lambda p: p["time_ns"]) if points else None


def _wait(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    return wait_for(check, what, timeout, interval_s=0.2)


def _status(influx: InfluxLab, source: str, up: int, since_ns: int = 0) -> dict | None:
    """The latest source_status of source if it is `up` and newer than since_ns."""
    point = _latest(influx, "source_status", source=source)
    if point and point["fields"]["up"] == up and point["time_ns"] > since_ns:
        return point
    return None


def _commit(broker: KafkaBroker, group: str, offsets: dict[TopicPartition, int]) -> None:
    """What the Spark job does after a batch, here done by hand with a plain consumer."""
    consumer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
    finally:
        consumer.close()


def _end_offsets(broker: KafkaBroker, topic: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def _assert_schema(influx: InfluxLab, sources: set[str]) -> None:
    """Every point is declared in pipeline_schema; every field of these sources is written."""
    written: dict[str, set[str]] = {}
    for point in influx.points(None, bucket=PIPELINE_BUCKET):
        declared = MEASUREMENTS.get(point["measurement"])
        assert declared is not None, f"undeclared measurement: {point}"
        assert set(point["tags"]) <= declared.tags, point
        assert set(point["fields"]) <= declared.fields, point
        written.setdefault(point["measurement"], set()).update(point["fields"])
    for m in MEASUREMENTS.values():
        if m.source in sources and m.name != "streamer_event":  # the streamer's own
            assert written.get(m.name) == set(m.fields), (m.name, written.get(m.name))


# -- tests -------------------------------------------------------------------------------


def test_every_source_is_written_as_the_services_report_it(
    broker: KafkaBroker,
    spec: DatasetSpec,
    streamer: StreamerServer,
    yarn: YarnCluster,
    hdfs: HdfsCluster,
    influx: InfluxLab,
    tmp_path: Path,
) -> None:
    sinks = query_group(f"{spec.name}.sinks")
    ends = _end_offsets(broker, spec.raw_topic)
    assert sum(ends.values()) == ROWS
    half = {tp: end // 2 for tp, end in ends.items()}
    _commit(broker, sinks, half)
    config = _config(
        influx, tmp_path, streamer_url=streamer.url, kafka_bootstrap=broker.bootstrap,
        yarn_rm_url=yarn.url, webhdfs_url=hdfs.namenode_http_url,
    )  # fmt: skip
    with _collecting(config, spec, influx.write_token):
        lag = _wait(lambda: _latest(influx, "kafka_lag", group=sinks), "the lag of the sinks query")
        assert lag["tags"] == {"topic": spec.raw_topic, "dataset": spec.name, "group": sinks}
        committed = sum(half.values())
        assert lag["fields"] == {
            "lag": ROWS - committed, "committed_offset": committed, "end_offset": ROWS,
        }  # fmt: skip
        _commit(broker, sinks, ends)
        _wait(
            lambda: (_latest(influx, "kafka_lag", group=sinks) or {})["fields"]["lag"] == 0,
            "the lag to drop to 0 after the commit",
        )
        for source in ("streamer", "kafka", "yarn", "hdfs"):
            _wait(lambda s=source: _status(influx, s, up=1), f"{source} up")

    # Queries that never committed have no lag point.
    assert {p["tags"]["group"] for p in _points(influx, "kafka_lag")} == {sinks}
    _assert_topics(influx, spec)
    _assert_stream(influx, spec, streamer)
    _assert_yarn(influx, yarn)
    _assert_hdfs(influx, hdfs)
    _assert_schema(influx, {"streamer", "kafka", "yarn", "hdfs"})


def _assert_topics(influx: InfluxLab, spec: DatasetSpec) -> None:
    expected = {
        spec.raw_topic: ("raw", ROWS),
        spec.deadletter_topic: ("deadletter", BAD_ROWS),
        spec.alerts_topic: ("alerts", 0),
    }
    for topic, (kind, end) in expected.items():
        point = _latest(influx, "kafka_topic", topic=topic)
        assert point is not None, f"no kafka_topic point for {topic}"
        assert point["tags"] == {"topic": topic, "dataset": spec.name, "kind": kind}
        assert point["fields"] == {"end_offset": end, "partitions": spec.partitions}


def _assert_stream(influx: InfluxLab, spec: DatasetSpec, streamer: StreamerServer) -> None:
    status = streamer.status(spec.name)
    point = _latest(influx, "streamer_stream", stream=spec.name)
    assert point is not None
    assert point["fields"] == {
        "asked_rows_per_s": 1000.0,
        "achieved_rows_per_s": 0.0,
        "rows_sent": status["rows_sent"],
        "rows_deadlettered": BAD_ROWS,
        "rows_filtered": 0,
        "state": "finished",
        "running": 0,
    }
    assert (status["rows_sent"], status["rows_deadlettered"]) == (ROWS, BAD_ROWS)


def _assert_yarn(influx: InfluxLab, yarn: YarnCluster) -> None:
    metrics = yarn.cluster_metrics()
    point = _latest(influx, "yarn_cluster")
    assert point is not None
    assert point["fields"] == {
        "memory_used_mb": metrics["allocatedMB"],
        "memory_total_mb": NODE_MEMORY_MB,
        "vcores_used": metrics["allocatedVirtualCores"],
        "vcores_total": NODE_VCORES,
        "apps_running": 0,
        "apps_pending": 0,
        "nodes_active": 1,
    }


def _assert_hdfs(influx: InfluxLab, hdfs: HdfsCluster) -> None:
    state = hdfs.namenode_state()
    fields = _latest(influx, "hdfs_cluster")["fields"]
    assert fields["live_datanodes"] == 1 and fields["dead_datanodes"] == 0
    assert fields["capacity_total_bytes"] == state["CapacityTotal"] > 0
    used, remaining = fields["capacity_used_bytes"], fields["capacity_remaining_bytes"]
    assert used > 0 and 0 < remaining <= fields["capacity_total_bytes"]


def test_a_source_going_down_is_written_down_and_back_up(
    broker: KafkaBroker,
    spec: DatasetSpec,
    streamer: StreamerServer,
    yarn: YarnCluster,
    hdfs: HdfsCluster,
    influx: InfluxLab,
    tmp_path: Path,
) -> None:
    nowhere = f"http://{process.HOST}:{process.free_ports(1)[0]}"
    config = _config(
        influx, tmp_path, streamer_url=streamer.url, kafka_bootstrap=broker.bootstrap,
        yarn_rm_url=yarn.url, webhdfs_url=hdfs.namenode_http_url, spark_master_ui_url=nowhere,
    )  # fmt: skip
    with _collecting(config, spec, influx.write_token):
        for source in ("kafka", "hdfs"):
            _wait(lambda s=source: _status(influx, s, up=1), f"{source} up")
        try:
            broker.stop()
            hdfs.stop()
            down_ns = time.time_ns()
            kafka_down = _wait(lambda: _status(influx, "kafka", 0, down_ns), "kafka down")
            hdfs_down = _wait(lambda: _status(influx, "hdfs", 0, down_ns), "hdfs down")
            # The others are still polled, and written up, meanwhile.
            for source in ("streamer", "yarn"):
                _wait(lambda s=source: _status(influx, s, 1, hdfs_down["time_ns"]), f"{source}")
        finally:
            broker.start()
            hdfs.start()
        up_ns = time.time_ns()
        for source, measurement in (("kafka", "kafka_topic"), ("hdfs", "hdfs_cluster")):
            _wait(lambda s=source: _status(influx, s, 1, up_ns), f"{source} up again")
            _wait(
                lambda m=measurement: _latest(influx, m)["time_ns"] > up_ns,
                f"{measurement} points again",
            )

    assert broker.bootstrap in kafka_down["fields"]["error"]
    assert "cannot connect" in hdfs_down["fields"]["error"]
    master = _points(influx, "source_status", source="spark_master")
    assert master and all(p["fields"]["up"] == 0 for p in master)
    assert all(nowhere in p["fields"]["error"] for p in master)
    assert not _points(influx, "spark_standalone")
    _assert_schema(influx, {"*"})  # source_status: up, response_ms and error all written
