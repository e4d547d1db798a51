"""The job's typed reading of Kafka records gives what the text-only reference gives.

parse() reads each record with the spec's types and reads again as text only the records
that reading refuses (parsing.py). These tests feed both readings the same records, valid and
malformed in every way a producer can get them wrong, and compare every column, the reasons
included.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from pyspark.sql import DataFrame, SparkSession

from harness.spark import kafka_frame
from harness.streamer import unique_spec
from streamlab.spark.parsing import parse
from streamlab.specs import DatasetSpec, FieldSpec

pytestmark = pytest.mark.integration

GOOD = {"ts": "2026-01-02T03:04:05.123456Z", "seq": 7, "sent_ms": 1767323045123,
        "sensor": "s1", "temp": 21.5, "count": 3, "ok": True, "note": "fine", "extra": 1.5}  # fmt: skip
CHANGES = [
    {},
    {"temp": "21.5", "count": "5", "ok": "true", "seq": "8"},
    {"temp": 21, "count": -4, "extra": None},
    {"temp": 1e300, "count": 9223372036854775807},
    {"count": 3.0}, {"count": 1e3}, {"count": 99999999999999999999}, {"count": "x"},
    {"temp": "warm"}, {"temp": "NaN"}, {"temp": "Infinity"}, {"temp": "-Infinity"},
    {"temp": -0.0}, {"temp": 5e-324}, {"temp": [1, 2]}, {"temp": {"a": 1}},
    {"ok": 1}, {"ok": "yes"}, {"ok": "false"}, {"ok": None},
    {"note": 5}, {"note": True}, {"note": {"a": [1]}}, {"note": ""}, {"note": "ü 🚀 \"q\""},
    {"sensor": ""}, {"sensor": 5}, {"sensor": None},
    {"ts": "not a time"}, {"ts": 1767323045}, {"ts": "2026-01-02 03:04:05"}, {"ts": None},
    {"seq": 3.5}, {"seq": None}, {"seq": "abc"}, {"sent_ms": "abc"}, {"sent_ms": 1.5},
    {"original_ts": "2010-01-01T00:00:00Z"}, {"original_ts": "bad"},
    {"unknown": {"deep": [1, 2, 3]}},
]  # fmt: skip
DROPS = ["temp", "count", "ok", "note", "extra", "sensor", "ts", "seq", "sent_ms"]
RAW_RECORDS = [
    "this is not json", "", "[1, 2]", "42", "null", '"text"', "{}", "{", '{"temp": }',
    '{"ts": "2026-01-02T03:04:05Z", "seq": 1, "sensor": "s1", "temp": NaN, "count": 1, '
    '"ok": true, "note": "n"}',
    '{"ts": "2026-01-02T03:04:05Z", "seq": 1, "sensor": "s1", "temp": -Infinity, "count": 1, '
    '"ok": true, "note": "n", "extra": Infinity}',
    '{"ts": "2026-01-02T03:04:05Z", "seq": 1, "sensor": "s1", "temp": 1e400, "count": 1, '
    '"ok": true, "note": "n", "extra": "NaN"}',
    '{"ts": "2026-01-02T03:04:05Z", "seq": 1, "seq": 2, "sensor": "s1", "temp": 1, '
    '"count": 1, "ok": true, "note": "n"}',
    '  {"ts": "2026-01-02T03:04:05Z", "seq": 1, "sensor": "s1", "temp": 1.0e2, "count": 1,'
    ' "ok": false, "note": "n"}  ',
]  # fmt: skip


def records() -> list[str]:
    out = [json.dumps({**GOOD, **change}) for change in CHANGES]
    out += [json.dumps({k: v for k, v in GOOD.items() if k != drop}) for drop in DROPS]
    return out + RAW_RECORDS


def every_type_spec() -> DatasetSpec:
    fields = (
        FieldSpec("temp", "float"), FieldSpec("count", "int"), FieldSpec("ok", "bool"),
        FieldSpec("note", "string"), FieldSpec("extra", "float", optional=True),
    )  # fmt: skip
    return dataclasses.replace(unique_spec("sensors"), fields=fields)


def readings(frame: DataFrame) -> list[str]:
    """Each row as text (NaN compares equal to NaN this way), by Kafka offset."""
    return [repr(sorted(r.asDict().items())) for r in frame.orderBy("kafka_offset").collect()]


def test_typed_and_text_readings_agree_on_every_record(spark: SparkSession) -> None:
    spec, values = every_type_spec(), records()
    kafka = kafka_frame(spark, values)
    typed, text = parse(kafka, spec), parse(kafka, spec, typed=False)
    assert typed.columns == text.columns
    assert readings(typed) == readings(text)
    reasons = [r.reason for r in typed.orderBy("kafka_offset").collect()]
    assert reasons[0] is None and reasons[1] is None  # numbers as JSON strings still cast
    assert reasons[values.index("this is not json")] == "the value is not a JSON object"
    assert sum(r is None for r in reasons) >= 10
    assert sum(r is not None for r in reasons) >= 25


def optimized_plan(frame: DataFrame, capsys: pytest.CaptureFixture[str]) -> str:
    """The optimized logical plan, as DataFrame.explain prints it."""
    capsys.readouterr()
    frame.explain(mode="extended")
    printed = capsys.readouterr().out
    return printed.split("== Optimized Logical Plan ==")[1].split("== Physical Plan ==")[0]


def test_well_typed_records_are_not_read_twice(
    spark: SparkSession, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a record the typed reading refuses is read as text: in the plan, the text
    reading (seq as a string) stands only as the THEN of a condition."""
    spec = every_type_spec()
    plan = optimized_plan(parse(kafka_frame(spark, records()[:1]), spec), capsys)
    readings = re.findall(r"(\S+) from_json\(StructField\(ts,StringType,true\), "
                          r"StructField\(original_ts,StringType,true\), StructField\(seq,(\w+)",
                          plan)  # fmt: skip
    assert sorted(kind for _, kind in readings) == ["LongType", "StringType"]
    assert dict((kind, before) for before, kind in readings)["StringType"] == "THEN"
