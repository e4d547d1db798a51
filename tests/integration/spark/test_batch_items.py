"""The sinks' single pass over a micro-batch: one item per row says whether the row has a
point and whether it needs messages (a dead letter or an alert), so a batch is read and
parsed once unless it has such rows; and the job's session keeps filters on parsed columns
from parsing again."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from pyspark.sql import DataFrame, SparkSession

from harness.spark import kafka_frame
from harness.streamer import unique_spec
from sparkjob.lineprotocol import lines
from sparkjob.parsing import parse, valid_rows
from sparkjob.session import JOB_SQL_CONF
from sparkjob.sinks import FLAG, BatchItems, _split
from streamlab.specs import DatasetSpec, FieldSpec

pytestmark = pytest.mark.integration

TS = "2026-01-02T03:04:05.123456Z"
TS_US = 1_767_323_045_123_456
EXCLUDED_RULES = "spark.sql.optimizer.excludedRules"
TYPED_READING = re.compile(
    r"from_json\(StructField\(ts,StringType,true\), StructField\(original_ts,StringType,true\), "
    r"StructField\(seq,LongType"
)


def temps_spec() -> DatasetSpec:
    """temps (alert: heat when temp_f > 85), with temp_f optional: a row may have no point."""
    spec = unique_spec("temps")
    return dataclasses.replace(spec, fields=(FieldSpec("temp_f", "float", optional=True),))


def record(seq: int, **values: object) -> str:
    return json.dumps({"ts": TS, "seq": seq, "sent_ms": 1000 + seq, "station": "SEA", **values})


def point(spec: DatasetSpec, seq: int, temp_f: float) -> bytes:
    row = {"station": "SEA", "temp_f": temp_f, "ts_us": TS_US, "seq": seq}
    return f"{1000 + seq} {lines(spec.name, [row], spec.tags, spec.field_names)[0]}".encode()


def items(spark: SparkSession, spec: DatasetSpec, values: list[str]) -> list[bytes]:
    frame = BatchItems(spec).of(parse(kafka_frame(spark, values), spec))
    return [bytes(row.item) for row in frame.collect()]


def test_each_row_has_its_point_and_a_flag_where_it_needs_messages(spark) -> None:
    spec = temps_spec()
    values = [
        record(1, temp_f=70.5),  # a point
        record(2, temp_f=90.5),  # a point that fires the heat alert
        "this is not json",  # a dead letter
        record(4, temp_f="warm"),  # a dead letter
        record(5),  # valid, no field value: no point
        record(6, temp_f=85.0),  # at the threshold, not above it
    ]
    assert items(spark, spec, values) == [
        point(spec, 1, 70.5),
        FLAG + point(spec, 2, 90.5),
        FLAG,
        FLAG,
        b"",
        point(spec, 6, 85.0),
    ]


def test_without_alerts_only_invalid_rows_are_flagged(spark) -> None:
    spec = dataclasses.replace(temps_spec(), alerts=())
    got = items(spark, spec, [record(1, temp_f=90.5), "{}"])
    assert got == [point(spec, 1, 90.5), FLAG]


def test_split_counts_flags_and_keeps_every_point() -> None:
    chunk = [
        b"17 m,t=a f=1 5",
        FLAG + b"18 m,t=a f=2 6",
        FLAG,
        b"",
        b" m f=3 7",
        FLAG + b" m f=4 8",
    ]
    assert _split(chunk) == (
        [17, 18],
        [b"m,t=a f=1 5", b"m,t=a f=2 6", b"m f=3 7", b"m f=4 8"],
        3,
    )


def typed_readings(frame: DataFrame) -> int:
    return len(TYPED_READING.findall(frame._jdf.queryExecution().optimizedPlan().toString()))


def test_the_job_session_parses_valid_rows_once(spark) -> None:
    """valid_rows filters on the reason; Spark 4.0's pushdown inlines the parse below it."""
    spec = temps_spec()
    frame = lambda: valid_rows(parse(kafka_frame(spark, [record(1, temp_f=1.0)]), spec), spec)  # noqa: E731
    before = spark.conf.get(EXCLUDED_RULES, None)
    try:
        spark.conf.unset(EXCLUDED_RULES)
        pushed = typed_readings(frame())
        spark.conf.set(EXCLUDED_RULES, JOB_SQL_CONF[EXCLUDED_RULES])
        kept = typed_readings(frame())
        rows = frame().collect()
    finally:
        if before is None:
            spark.conf.unset(EXCLUDED_RULES)
        else:
            spark.conf.set(EXCLUDED_RULES, before)
    assert pushed > 1, "Spark no longer inlines the parse into the filter: drop the setting"
    assert kept == 1
    assert [(r.station, r.temp_f, r.seq) for r in rows] == [("SEA", 1.0, 1)]
