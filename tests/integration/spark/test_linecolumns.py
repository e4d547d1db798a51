"""Lines built in the JVM (sparkjob.linecolumns) equal the Python reference (lineprotocol)."""

from __future__ import annotations

import random
import struct
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import DataFrame
from pyspark.sql.types import DataType

from doubles.influxdb.lineprotocol import parse
from sparkjob.linecolumns import LineBuilder
from sparkjob.lineprotocol import lines

pytestmark = pytest.mark.integration

TEXTS = ["plain", "a b", "c,d", "e=f", 'q"u', "b\\s", "tail\\", "n\nl", "🍭 x", "ü", "", None]
TAGS = ["s 1", "a,b", "x=y", "back\\", "\\,", "", None, "ü🚀", 'q"', "t\tab"]
SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.5, 0.1, 1e16, 1e15, 9999999999999998.0, 1e7, 1e-4, 1e-5,
                  0.001, 123.0, 1e22, 1e23, 5e-324, -5e-324, 1e-323, 2.2250738585072014e-308,
                  1.7976931348623157e308, float("nan"), float("inf"), float("-inf"), None]  # fmt: skip
INTS = [0, -5, 2**63 - 1, -(2**63), None]
TIMES = [1_700_000_000_000_000, -5, 0, 253_402_300_799_999_999, -62_135_596_800_000_000]
SEQS = [0, -1, 999, 1000, 2**62, 12345]
SCHEMA = (
    "`t a,g` string, tag string, f double, r float, i bigint, n int, b boolean, "
    "`s=x y` string, ts_us bigint, seq bigint"
)
FIELDS = ["f", "r", "i", "n", "b", "s=x y"]


def floats(count: int) -> list[float | None]:
    rng = random.Random(5)
    bits = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(count)]
    scaled = [rng.random() * 10.0 ** rng.randint(-30, 30) for _ in range(count)]
    return SPECIAL_FLOATS + bits + scaled


def rows() -> list[dict[str, Any]]:
    out = []
    for i, value in enumerate(floats(3000)):
        out.append({
            "t a,g": TAGS[i % len(TAGS)], "tag": TAGS[i * 7 % len(TAGS)], "f": value,
            "r": [1.1, -0.0, None, 3.4e38][i % 4], "i": INTS[i % len(INTS)],
            "n": [1, -2, None][i % 3], "b": [True, False, None][i % 3],
            "s=x y": TEXTS[i % len(TEXTS)], "ts_us": TIMES[i % len(TIMES)], "seq": SEQS[i % len(SEQS)],
        })  # fmt: skip
    # A row with no field value at all: the Python builder skips it, the JVM gives null.
    out.append({**out[0], **dict.fromkeys(FIELDS)})
    return out


def types(frame: DataFrame, fields: list[str]) -> dict[str, DataType]:
    by_name = {f.name: f.dataType for f in frame.schema.fields}
    return {name: by_name[name] for name in fields}


def python_line(row: dict[str, Any], fields: list[str]) -> str | None:
    if row["r"] is not None:  # Spark hands Python a float column as the float32's double
        row = {**row, "r": struct.unpack("f", struct.pack("f", row["r"]))[0]}
    built = lines("my meas,x", [row], ["tag", "t a,g"], fields)
    return built[0] if built else None


@pytest.mark.parametrize("fields", [FIELDS, ["f"], ["b", "s=x y"]])
def test_jvm_lines_equal_python_lines(spark, fields: list[str]) -> None:
    data = rows()
    frame = spark.createDataFrame([tuple(r.values()) for r in data], SCHEMA)
    builder = LineBuilder("my meas,x", ["tag", "t a,g"], types(frame, fields))
    jvm = [r.line for r in builder.lines(frame).collect()]
    python = [python_line(row, fields) for row in data]
    assert jvm == python
    assert jvm[-1] is None and sum(line is not None for line in jvm) > 3000


def test_jvm_lines_parse_as_written(spark) -> None:
    frame = spark.createDataFrame(
        [("a b", 1.5, 7, True, 'say "hi"\\', 1_000, 3)],
        "tag string, f double, i bigint, b boolean, s string, ts_us bigint, seq bigint",
    )
    builder = LineBuilder("m", ["tag"], types(frame, ["f", "i", "b", "s"]))
    (row,) = builder.lines(frame).collect()
    result = parse(row[0], "ns", 0)
    assert result.errors == []
    (point,) = result.points
    assert dict(point.tags) == {"tag": "a b"}
    assert {k: f.value for k, f in point.fields.items()} == {
        "f": 1.5, "i": 7, "b": True, "s": 'say "hi"\\'
    }  # fmt: skip
    assert point.time_ns == 1_000_003


def test_unsupported_field_types_are_refused(spark) -> None:
    frame = spark.createDataFrame(
        [(Decimal("1.50"), 2, 3)], "d decimal(10,2), ts_us bigint, seq bigint"
    )
    with pytest.raises(TypeError, match="decimal"):
        LineBuilder("m", [], types(frame, ["d"]))
