"""Kafka records to typed rows, derived from the dataset spec; anything wrong gets a reason.

Every value is first read as text and then cast with try_cast, so a wrong type becomes a
dead-letter reason ("field 'temp_f'='warm' is not a double") instead of a silent null or,
under Spark 4's ANSI mode, a failed query.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from streamlab.specs import DatasetSpec

SPARK_TYPES = {"float": "double", "int": "bigint", "bool": "boolean", "string": "string"}
META_COLUMNS = ("ts", "original_ts", "seq", "sent_ms")
CORRUPT = "_corrupt_record"


def text_schema(spec: DatasetSpec) -> StructType:
    names = [*META_COLUMNS, *spec.tags, *spec.field_names, CORRUPT]
    return StructType([StructField(n, StringType()) for n in names])


def _checks(spec: DatasetSpec) -> list[tuple[Column, Column]]:
    """(condition that is true when wrong, reason) for each column, in spec order."""
    raw = lambda name: F.col(f"_json.{name}")  # noqa: E731
    checks: list[tuple[Column, Column]] = [
        (
            F.col("_json").isNull() | raw(CORRUPT).isNotNull(),
            F.lit("the value is not a JSON object"),
        ),
        (raw("ts").isNull(), F.lit("'ts' is missing")),
        (F.col("ts").isNull(), F.concat(F.lit("'ts'="), raw("ts"), F.lit(" is not a timestamp"))),
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
            F.lit(f"field '{field.name}'="), raw(field.name), F.lit(f" is not a {kind}")
        )
        checks.append((wrong, reason))
    return checks


def _reason(checks: list[tuple[Column, Column]]) -> Column:
    expression = F.lit(None).cast("string")
    for wrong, reason in reversed(checks):
        expression = F.when(wrong, reason).otherwise(expression)
    return expression


def parse(kafka: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Typed columns of the spec plus ts/ts_us/original_ts/seq/sent_ms, `record` (the raw
    value), Kafka coordinates, and `reason` (null when the row is valid)."""
    typed = [
        F.col(f"_json.{f.name}").try_cast(SPARK_TYPES[f.type]).alias(f.name) for f in spec.fields
    ]
    frame = kafka.select(
        F.col("value").cast("string").alias("record"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
    ).withColumn(
        "_json",
        F.from_json(
            "record",
            text_schema(spec),
            {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT},
        ),
    )
    frame = frame.select(
        "*",
        F.col("_json.ts").try_cast("timestamp").alias("ts"),
        F.col("_json.original_ts").try_cast("timestamp").alias("original_ts"),
        F.col("_json.seq").try_cast("bigint").alias("seq"),
        F.col("_json.sent_ms").try_cast("bigint").alias("sent_ms"),
        *[F.col(f"_json.{t}").alias(t) for t in spec.tags],
        *typed,
    )
    return frame.withColumn("reason", _reason(_checks(spec))).drop("_json")


def valid_rows(parsed: DataFrame, spec: DatasetSpec) -> DataFrame:
    """The raw layer's columns: tags, fields, times, seq, Kafka coordinates and the date."""
    return parsed.where(F.col("reason").isNull()).select(
        *spec.tags,
        *spec.field_names,
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
