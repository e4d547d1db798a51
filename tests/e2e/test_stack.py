"""The running stack, as item 6 of the compose issue lists it (either profile)."""

from __future__ import annotations

import os
import time

import pytest
import requests
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from stack import Stack, log, record_figure, wait_for

from streamlab.specs import load_specs

# A failure guard, not a figure: the time to matching counts is recorded (record_figure).
ROWS_MATCH_GUARD_S = 900


@pytest.fixture(scope="module")
def specs(stack: Stack):
    return load_specs(stack.settings.path("DATASETS_DIR"), stack.settings.values)


def test_every_long_running_service_is_healthy(stack: Stack) -> None:
    containers = stack.containers()
    for c in containers:
        log(f"{c['Service']:16} {c['State']:8} {c['Status']}")
    running = [c for c in containers if c["Service"] != "provisioner"]
    assert running, "no container of the stack is running"
    unhealthy = [c["Service"] for c in running if c["Health"] != "healthy"]
    assert not unhealthy, f"not healthy: {unhealthy}"
    provisioner = [c for c in containers if c["Service"] == "provisioner"]
    assert provisioner and provisioner[0]["ExitCode"] == 0, "the provisioner did not exit 0"
    expected = {"zookeeper", "kafka", "influxdb", "grafana", "streamer", "spark-job"}
    expected |= (
        {"namenode", "datanode", "resourcemanager", "nodemanager"}
        if stack.profile == "full"
        else {"spark-master", "spark-worker"}
    )
    assert expected <= {c["Service"] for c in running}


def test_topics_exist_for_every_dataset(stack: Stack, specs) -> None:
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    try:
        topics = set(admin.list_topics())
    finally:
        admin.close()
    for spec in specs.values():
        wanted = {spec.raw_topic, spec.deadletter_topic, spec.alerts_topic}
        log(f"topics of {spec.name}: {sorted(wanted & topics)}")
        assert wanted <= topics


def test_raw_layer_directories_exist_with_owners(stack: Stack) -> None:
    if stack.profile != "full":
        # lite: no HDFS; the raw layer and checkpoints live on the raw-layer volume.
        listing = stack.exec_bytes("spark-job", "stat", "-c", "%n %U %a", "/data/lake/raw",
                                   "/data/lake/checkpoints").decode()  # fmt: skip
        log(f"raw-layer volume:\n{listing.strip()}")
        assert all(line.split()[1] == "spark" for line in listing.splitlines())
        return
    webhdfs = f"{stack.url('HDFS_NAMENODE_HTTP_PORT')}/webhdfs/v1"
    for path in ("/streamlab/raw", "/streamlab/checkpoints", "/tmp"):
        status = requests.get(f"{webhdfs}{path}?op=GETFILESTATUS", timeout=10).json()
        status = status["FileStatus"]
        log(
            f"hdfs {path}: {status['type']} {status['owner']}:{status['group']} {status['permission']}"
        )
        assert status["type"] == "DIRECTORY"
    tmp = requests.get(f"{webhdfs}/tmp?op=GETFILESTATUS", timeout=10).json()["FileStatus"]
    assert tmp["permission"] == "1777"


def test_buckets_exist_with_retention(stack: Stack) -> None:
    reply = requests.get(
        f"{stack.url('INFLUXDB_PORT')}/api/v2/buckets", headers=stack.influx_headers(), timeout=10
    )
    reply.raise_for_status()
    buckets = {b["name"]: b for b in reply.json()["buckets"]}
    for key in ("INFLUX_BUCKET", "INFLUX_PIPELINE_BUCKET"):
        name = stack.settings.str(key)
        log(f"bucket {name}: retention {buckets.get(name, {}).get('retentionRules')}")
        assert name in buckets


def test_tokens_are_least_privilege(stack: Stack) -> None:
    base, org = stack.url("INFLUXDB_PORT"), stack.settings.str("INFLUX_ORG")
    bucket = stack.settings.str("INFLUX_BUCKET")
    write, read = stack.token("influx-write.token"), stack.token("influx-read.token")
    line = "e2e_probe,source=e2e value=1i"
    wrote = requests.post(
        f"{base}/api/v2/write", params={"org": org, "bucket": bucket},
        headers={"Authorization": f"Token {write}"}, data=line, timeout=10,
    )  # fmt: skip
    assert wrote.status_code == 204, wrote.text
    refused = requests.post(
        f"{base}/api/v2/write", params={"org": org, "bucket": bucket},
        headers={"Authorization": f"Token {read}"}, data=line, timeout=10,
    )  # fmt: skip
    log(f"write token writes: {wrote.status_code}; read token writing: {refused.status_code}")
    assert refused.status_code in (401, 403, 404)
    listed = requests.get(
        f"{base}/api/v2/buckets", headers={"Authorization": f"Token {write}"}, timeout=10
    )
    names = {b["name"] for b in listed.json().get("buckets", [])} if listed.ok else set()
    log(f"write token listing buckets: {listed.status_code} {sorted(names)}")
    assert bucket not in names, "the write token can read the data bucket"


def test_grafana_has_the_datasource_and_dashboards(stack: Stack, specs) -> None:
    base, auth = stack.url("GRAFANA_PORT"), stack.grafana_auth()
    anonymous = requests.get(f"{base}/api/search", timeout=10)
    assert anonymous.status_code == 401
    source = requests.get(f"{base}/api/datasources/uid/streamlab-influxdb", auth=auth, timeout=10)
    source.raise_for_status()
    log(f"datasource: {source.json()['name']} ({source.json()['type']}, secure fields "
        f"{sorted(source.json().get('secureJsonFields', {}))})")  # fmt: skip
    assert source.json()["secureJsonFields"].get("token") is True
    hits = requests.get(f"{base}/api/search", params={"type": "dash-db"}, auth=auth, timeout=10)
    titles = sorted(h["title"] for h in hits.json())
    log(f"dashboards: {titles}")
    uids = {h["uid"] for h in hits.json()}
    assert "streamlab-pipeline" in uids
    assert len(uids) >= 1 + len(specs)


def test_rows_reach_the_raw_layer_and_influxdb_with_matching_counts(
    stack: Stack, default_dataset: str
) -> None:
    up_at = float(os.environ.get("E2E_STACK_UP_EPOCH", time.time()))
    deadline = up_at + ROWS_MATCH_GUARD_S

    def counts() -> tuple[int, int] | None:
        parquet, points = stack.parquet_rows(default_dataset), stack.influx_count(default_dataset)
        log(f"{default_dataset}: parquet {parquet} rows, influxdb {points} points")
        return (parquet, points) if parquet > 0 and points > 0 else None

    first = wait_for("the first rows in both sinks", counts, max(5.0, deadline - time.time()))
    record_figure("first_rows_in_both_sinks_after_up_s", time.time() - up_at, counts=first)
    stack.post_stream(default_dataset, "pause")
    try:
        acked = wait_for(
            "the streamer to flush", lambda: _flushed(stack, default_dataset), 300, every=0.5
        )
        expected = acked - stack.stream(default_dataset)["rows_deadlettered"]
        matched = wait_for(
            f"{expected} rows in Parquet and in InfluxDB",
            lambda: (c := counts()) is not None and c[0] == c[1] == expected and c,
            max(10.0, deadline - time.time()),
        )
        log(f"matching counts {matched} = rows sent {expected}")
        record_figure("counts_match_after_up_s", time.time() - up_at, profile=stack.profile)
    finally:
        stack.post_stream(default_dataset, "resume")


def _flushed(stack: Stack, dataset: str) -> int | None:
    status = stack.stream(dataset)
    return status["rows_acked"] if status["rows_unacked"] == 0 else None


def _topic_rate(stack: Stack, topic: str, seconds: float) -> float:
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        before = sum(consumer.end_offsets(parts).values())
        time.sleep(seconds)
        after = sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()
    return (after - before) / seconds


def test_a_rate_post_changes_the_measured_rate(stack: Stack, default_dataset: str, specs) -> None:
    topic = specs[default_dataset].raw_topic
    original = stack.stream(default_dataset)["rate"]
    try:
        for asked in (20.0, 200.0):
            stack.post_stream(default_dataset, "rate", {"rows_per_second": asked})
            time.sleep(2)
            measured = _topic_rate(stack, topic, 8)
            log(f"asked {asked:.0f} rows/s, measured {measured:.1f} rows/s on {topic}")
            assert abs(measured - asked) <= 0.15 * asked
    finally:
        body = {original["mode"]: original["value"]} if "value" in original else None
        if body:
            stack.post_stream(default_dataset, "rate", body)


def test_the_spark_job_runs_where_the_profile_says(stack: Stack) -> None:
    if stack.profile == "full":
        apps = requests.get(
            f"{stack.url('YARN_RESOURCEMANAGER_HTTP_PORT')}/ws/v1/cluster/apps",
            params={"states": "RUNNING"}, timeout=10,
        ).json()["apps"]  # fmt: skip
        running = [a["name"] for a in (apps or {}).get("app", [])]
        log(f"YARN running applications: {running}")
        listed = stack.exec_bytes("resourcemanager", "yarn", "application", "-list").decode()
        log("yarn application -list:\n" + listed.strip())
        assert "streamlab" in running
        return
    master = requests.get(f"{stack.url('SPARK_MASTER_UI_PORT')}/json/", timeout=10).json()
    alive = [w for w in master["workers"] if w["state"] == "ALIVE"]
    apps = [a["name"] for a in master["activeapps"]]
    log(f"standalone master: {len(alive)} workers alive, applications {apps}")
    assert len(alive) == stack.settings.int("SPARK_WORKERS") == 2
    app_id = requests.get(f"{stack.url('SPARK_UI_PORT')}/api/v1/applications", timeout=10).json()
    executors = requests.get(
        f"{stack.url('SPARK_UI_PORT')}/api/v1/applications/{app_id[0]['id']}/executors",
        timeout=10,
    ).json()  # fmt: skip
    hosts = {e["hostPort"].rsplit(":", 1)[0] for e in executors if e["id"] != "driver"}
    log(f"executors on {sorted(hosts)}")
    assert "streamlab" in apps and len(hosts) == 2
