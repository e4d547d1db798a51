"""The sinks' single pass over a micro-batch, on the real InfluxDB: valid rows with a field
value become points at their idempotent point time, and the rows that need messages (a
dead letter or an alert) are counted, so a batch is read again only when it has any."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from pyspark.sql import SparkSession

from harness.influx import DATA_BUCKET, InfluxLab
from harness.spark import kafka_frame
from harness.streamer import unique_spec
from sparkjob.enrichment import enrich
from sparkjob.series import data_series
from sparkjob.sinks import point_rows
from streamlab.influx import InfluxTarget, point_time_ns
from streamlab.spark.frame_writes import Written, write_frame
from streamlab.spark.parsing import parse
from streamlab.specs import DatasetSpec, FieldSpec

pytestmark = pytest.mark.integration

TS_US = (time.time_ns() // 1000 // 1_000_000 - 60) * 1_000_000  # a minute ago, whole seconds
TS = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(TS_US / 1e6))


def temps_spec() -> DatasetSpec:
    """temps (alert: heat when temp_f > 85), with temp_f optional: a row may have no point."""
    spec = unique_spec("temps")
    return dataclasses.replace(spec, fields=(FieldSpec("temp_f", "float", optional=True),))


def record(seq: int, **values: object) -> str:
    sent_ms = int(time.time() * 1000) - 500
    return json.dumps({"ts": TS, "seq": seq, "sent_ms": sent_ms, "station": "SEA", **values})


def write(spark: SparkSession, influx: InfluxLab, spec: DatasetSpec, values: list[str]) -> Written:
    target = InfluxTarget(influx.url, "streamlab", DATA_BUCKET, influx.write_token, batch_size=2)
    rows = point_rows(enrich(parse(kafka_frame(spark, values), spec), spec, []), spec)
    return write_frame(rows, target, data_series(spec))


def stored(influx: InfluxLab, spec: DatasetSpec) -> list[tuple[int, str, float]]:
    return [
        (p["time_ns"], p["tags"]["station"], p["fields"]["temp_f"])
        for p in influx.points(spec.name)
    ]


def test_valid_rows_become_points_and_rows_needing_messages_are_counted(
    spark, influx: InfluxLab
) -> None:
    spec = temps_spec()
    values = [
        record(1, temp_f=70.5),  # a point
        record(2, temp_f=90.5),  # a point that fires the heat alert
        "this is not json",  # a dead letter
        record(4, temp_f="warm"),  # a dead letter
        record(5),  # valid, no field value: no point
        record(6, temp_f=85.0),  # at the threshold, not above it
    ]
    written = write(spark, influx, spec, values)
    assert (written.points, written.flagged) == (3, 3)
    assert (written.missed, written.dropped) == (0, 0)
    assert stored(influx, spec) == [
        (point_time_ns(TS_US, 1), "SEA", 70.5),
        (point_time_ns(TS_US, 2), "SEA", 90.5),
        (point_time_ns(TS_US, 6), "SEA", 85.0),
    ]
    assert {"latency_ms_p50", "latency_ms_p95", "latency_ms_max"} == set(written.latency_ms)
    assert 0 <= written.latency_ms["latency_ms_p50"] <= written.latency_ms["latency_ms_max"]


def test_a_replayed_batch_overwrites_its_points(spark, influx: InfluxLab) -> None:
    spec = temps_spec()
    values = [record(seq, temp_f=50.0 + seq) for seq in range(5)]
    write(spark, influx, spec, values)
    first = stored(influx, spec)
    write(spark, influx, spec, values)
    assert stored(influx, spec) == first and len(first) == 5


def test_without_alerts_only_invalid_rows_are_flagged(spark, influx: InfluxLab) -> None:
    spec = dataclasses.replace(temps_spec(), alerts=())
    written = write(spark, influx, spec, [record(1, temp_f=90.5), "{}"])
    assert (written.points, written.flagged) == (1, 1)
