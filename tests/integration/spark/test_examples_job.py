"""The idfm_stops example end to end on real Kafka, HDFS, Spark and InfluxDB: the raw layer
keeps each record as received (keep_source), and every valid visit becomes a point."""

from __future__ import annotations

import dataclasses
import json

import pytest

from harness.influx import InfluxLab
from harness.kafka import wait_until
from harness.streamer import StreamerServer, create_topics, streamer_config, unique_spec
from sparkjob.config import JobConfig
from sparkjob.job import start
from streamlab.specs import RateSpec

pytestmark = pytest.mark.integration

VALID_VISITS = 464


def test_idfm_stops_raw_layer_keeps_the_source_record(
    spark, kafka, hdfs, influx: InfluxLab, tmp_path
) -> None:
    spec = unique_spec("idfm_stops", rate=RateSpec("rows_per_second", 5000))
    spec = dataclasses.replace(spec, source=dataclasses.replace(spec.source, at_end="stop"))
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, lambda s: s["state"] == "finished" and s["rows_unacked"] == 0)
    config = JobConfig(
        datasets_dir=tmp_path, master="local[2]", kafka_bootstrap=kafka.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/examples/{spec.name}/raw",
        checkpoint_uri=f"{hdfs.uri}/examples/{spec.name}/checkpoints",
        influx_url=influx.url, influx_org="streamlab", influx_bucket="streamlab",
        pipeline_bucket="pipeline", token_file=tmp_path / "unused.token",
        trigger_interval="1 second", raw_layer_trigger_interval="1 second",
    )  # fmt: skip
    queries = start(spark, {spec.name: spec}, config, influx.write_token)
    parquet = lambda: spark.read.parquet(config.raw_path(spec.name))  # noqa: E731
    try:
        wait_until(lambda: influx.count(spec.name) >= VALID_VISITS, 120, "the points")
        wait_until(lambda: parquet().count() >= VALID_VISITS, 120, "the raw layer")
    finally:
        for query in queries:
            query.stop()
    rows = parquet().collect()
    assert len(rows) == VALID_VISITS
    for row in rows:
        record = json.loads(row["source"])
        assert record["ItemIdentifier"] == row["item"]
        journey = record["MonitoredVehicleJourney"]
        assert journey["LineRef"]["value"] == row["line"]
        assert journey["MonitoredCall"]["AimedDepartureTime"] == row["aimed_departure"]
    points = influx.points(spec.name)
    assert len(points) == VALID_VISITS
    assert {p["tags"]["stop"] for p in points} == {r["stop"] for r in rows}
    assert all(p["field_types"]["departure_status"] == "string" for p in points)
