"""Kafka records to typed rows, derived from the dataset spec; anything wrong gets a reason.

The reference reading takes every value as text and casts it with try_cast, so a wrong type
becomes a dead-letter reason ("field 'temp_f'='warm' is not a double") instead of a silent
null or, under Spark 4's ANSI mode, a failed query.

Read so, a JSON number costs the parser a JSON generator to turn it back into text, and
the cast a second parse: measured (JFR), most of the job's parsing time. So a record is
first read with the spec's types (numbers, booleans; times, tags and strings as text), and
only a record that reading refuses (corrupt: a wrong type, bad JSON) is read again as text,
which then decides its values and its reason. Both readings give every record the same
values and reason (tests/integration/spark/test_parsing.py).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from streamlab.specs import DatasetSpec

SPARK_TYPES = {"float": "double", "int": "bigint", "bool": "boolean", "string": "string"}
TYPES_BY_NAME: dict[str, DataType] = {
    "double": DoubleType(), "bigint": LongType(), "boolean": BooleanType(), "string": StringType(),
}  # fmt: skip
CORRUPT = "_corrupt_record"
_JSON_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
_META_TYPES = {"ts": "string", "original_ts": "string", "seq": "bigint", "sent_ms": "bigint"}

Raw = Callable[[str], Column]


def raw_topic_stream(
    spark: SparkSession, bootstrap: str, spec: DatasetSpec, **options: str | int
) -> DataFrame:
    """The dataset's raw topic as a Kafka stream (Spark's Kafka source options, such as
    startingOffsets, as keyword arguments); parse() reads it."""
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", spec.raw_topic)
        .option("failOnDataLoss", "false")
    )
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader.load()


def text_schema(spec: DatasetSpec) -> StructType:
    return StructType([StructField(n, StringType()) for n in [*_typed(spec), CORRUPT]])


def _typed(spec: DatasetSpec) -> dict[str, str]:
    """The type each column is read as in the typed reading (and cast to in the text one)."""
    return {
        **_META_TYPES,
        **({"source": "string"} if spec.keep_source else {}),
        **{tag: "string" for tag in spec.tags},
        **{f.name: SPARK_TYPES[f.type] for f in spec.fields},
    }


def typed_schema(spec: DatasetSpec) -> StructType:
    fields = [StructField(n, TYPES_BY_NAME[t]) for n, t in _typed(spec).items()]
    return StructType([*fields, StructField(CORRUPT, StringType())])


def _checks(spec: DatasetSpec, raw: Raw, json: str) -> list[tuple[Column, Column]]:
    """(condition that is true when wrong, reason) for each column, in spec order; raw(name)
    is the value as read from the JSON, F.col(name) the value the row keeps."""
    text = lambda name: raw(name).cast("string")  # noqa: E731
    checks: list[tuple[Column, Column]] = [
        (
            F.col(json).isNull() | raw(CORRUPT).isNotNull(),
            F.lit("the value is not a JSON object"),
        ),
        (raw("ts").isNull(), F.lit("'ts' is missing")),
        (F.col("ts").isNull(), F.concat(F.lit("'ts'="), text("ts"), F.lit(" is not a timestamp"))),
        (raw("seq").isNull() | F.col("seq").isNull(), F.lit("'seq' is missing or not an integer")),
    ]
    for tag in spec.tags:
        checks.append((raw(tag).isNull() | (raw(tag) == ""), F.lit(f"tag '{tag}' is missing")))
    for field in spec.fields:
        kind = SPARK_TYPES[field.type]
        if not field.optional:
            checks.append((raw(field.name).isNull(), F.lit(f"field '{field.name}' is missing")))
        wrong = raw(field.name).isNotNull() & F.col(field.name).isNull()
        reason = F.concat(
            F.lit(f"field '{field.name}'="), text(field.name), F.lit(f" is not a {kind}")
        )
        checks.append((wrong, reason))
    return checks


def _reason(checks: list[tuple[Column, Column]]) -> Column:
    expression = F.lit(None).cast("string")
    for wrong, reason in reversed(checks):
        expression = F.when(wrong, reason).otherwise(expression)
    return expression


def _kafka_columns(kafka: DataFrame) -> DataFrame:
    return kafka.select(
        F.col("value").cast("string").alias("record"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
    )


def parse(kafka: DataFrame, spec: DatasetSpec, typed: bool = True) -> DataFrame:
    """Typed columns of the spec plus ts/ts_us/original_ts/seq/sent_ms, `record` (the raw
    value), Kafka coordinates, and `reason` (null when the row is valid).

    typed=False reads every record as text only (the reference the tests compare with).
    """
    frame = _kafka_columns(kafka)
    return _typed_reading(frame, spec) if typed else _text_reading(frame, spec)


def _typed_reading(frame: DataFrame, spec: DatasetSpec) -> DataFrame:
    text = F.from_json("record", text_schema(spec), _JSON_OPTIONS)
    frame = (
        frame.withColumn("_typed", F.from_json("record", typed_schema(spec), _JSON_OPTIONS))
        .withColumn("_refused", _refused(spec))
        .withColumn("_json", F.when(F.col("_refused"), text))
    )
    values = [
        F.when(F.col("_refused"), F.col(f"_json.{n}").try_cast(t))
        .otherwise(F.col(f"_typed.{n}"))
        .alias(n)
        for n, t in _typed(spec).items()
    ]
    frame = _with_times(frame.select("*", *values))
    text_reason = _reason(_checks(spec, lambda n: F.col(f"_json.{n}"), "_json"))
    typed_reason = _reason(_checks(spec, lambda n: F.col(f"_typed.{n}"), "_typed"))
    reason = F.when(F.col("_refused"), text_reason).otherwise(typed_reason)
    return frame.withColumn("reason", reason).drop("_json", "_typed", "_refused")


def _refused(spec: DatasetSpec) -> Column:
    """True where the typed reading cannot stand for the text one: not an object, a value
    of another type (corrupt), or a NaN or infinite double, which reads as a number here
    but comes back from the text reading quoted and fails its cast."""
    refused = F.col("_typed").isNull() | F.col(f"_typed.{CORRUPT}").isNotNull()
    for name in (n for n, t in _typed(spec).items() if t == "double"):
        value = F.col(f"_typed.{name}")
        not_finite = F.isnan(value) | (F.abs(value) == float("inf"))
        refused = refused | F.coalesce(not_finite, F.lit(False))
    return refused


def _text_reading(frame: DataFrame, spec: DatasetSpec) -> DataFrame:
    frame = frame.withColumn("_json", F.from_json("record", text_schema(spec), _JSON_OPTIONS))
    values = [F.col(f"_json.{n}").try_cast(t).alias(n) for n, t in _typed(spec).items()]
    frame = _with_times(frame.select("*", *values))
    reason = _reason(_checks(spec, lambda n: F.col(f"_json.{n}"), "_json"))
    return frame.withColumn("reason", reason).drop("_json")


def _with_times(frame: DataFrame) -> DataFrame:
    times = ("ts", "original_ts")
    return frame.withColumns({name: F.col(name).try_cast("timestamp") for name in times})


def valid_rows(parsed: DataFrame, spec: DatasetSpec) -> DataFrame:
    """The raw layer's columns: tags, fields, times, seq, Kafka coordinates and the date,
    and the record as received (`source`) where the spec keeps it."""
    return parsed.where(F.col("reason").isNull()).select(
        *spec.tags,
        *spec.field_names,
        *(["source"] if spec.keep_source else []),
        "ts",
        F.unix_micros("ts").alias("ts_us"),
        "original_ts",
        "seq",
        "sent_ms",
        "kafka_partition",
        "kafka_offset",
        F.to_date("ts").alias("date"),
    )


def deadletters(parsed: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Rows for <dataset>.deadletter: the reason, the original record, where it came from."""
    message = F.to_json(
        F.struct(
            F.lit(spec.name).alias("dataset"),
            F.col("reason"),
            F.col("record"),
            F.lit("spark").alias("stage"),
            F.col("kafka_topic").alias("topic"),
            F.col("kafka_partition").alias("partition"),
            F.col("kafka_offset").alias("offset"),
            F.date_format(F.current_timestamp(), "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").alias("at"),
        )
    )
    return parsed.where(F.col("reason").isNotNull()).select(message.alias("value"))
