"""What the spec declares beyond the rows: threshold alerts and windowed aggregates."""

from __future__ import annotations

import operator

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streamlab.influx import SEQ_SLOTS
from streamlab.specs import Aggregation, Alert, DatasetSpec

from .series import TIME_COLUMN, aggregate_columns, window_tag

_OPERATORS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def point_time(ts: str = "ts", seq: str = "seq") -> Column:
    """A row's point time in ns (streamlab.influx.point_time_ns): the same row always
    lands on the same point, so a replayed micro-batch overwrites instead of duplicating."""
    return (F.unix_micros(ts) * 1000 + F.pmod(F.col(seq), F.lit(SEQ_SLOTS))).alias(TIME_COLUMN)


def _alert_message(alert: Alert, spec: DatasetSpec) -> Column:
    return F.to_json(
        F.struct(
            F.lit(spec.name).alias("dataset"),
            F.lit(alert.name).alias("alert"),
            F.lit(alert.field).alias("field"),
            F.lit(alert.operator).alias("operator"),
            F.lit(alert.value).alias("threshold"),
            F.col(alert.field).cast("double").alias("value"),
            *[F.col(t) for t in spec.tags],
            F.date_format("ts", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").alias("ts"),
            F.col("seq"),
        )
    )


def fires(alert: Alert) -> Column:
    """True where a valid row fires the alert."""
    return _OPERATORS[alert.operator](F.col(alert.field), F.lit(alert.value))


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def alerts(valid: DataFrame, spec: DatasetSpec) -> DataFrame | None:
    """Rows for <dataset>.alerts (key = the Kafka key column), or None if none are declared."""
    if not spec.alerts:
        return None
    key = F.col(spec.key).cast("string") if spec.key else F.lit(None).cast("string")
    return _union(
        [
            valid.where(fires(a)).select(key.alias("key"), _alert_message(a, spec).alias("value"))
            for a in spec.alerts
        ]
    )


def alert_rows(valid: DataFrame, spec: DatasetSpec) -> DataFrame | None:
    """The same alerts as rows of series.alert_series, or None if none are declared: the
    tags, `alert` (its name), `value`, `threshold`, at their row's point time."""
    if not spec.alerts:
        return None
    return _union(
        [
            valid.where(fires(a)).select(
                *spec.tags,
                F.lit(a.name).alias("alert"),
                F.col(a.field).cast("double").alias("value"),
                F.lit(a.value).cast("double").alias("threshold"),
                point_time(),
            )
            for a in spec.alerts
        ]
    )


def aggregate(valid: DataFrame, spec: DatasetSpec, agg: Aggregation) -> DataFrame:
    """Per-tag windowed aggregates as rows of series.aggregate_series: tags, `window`, one
    column per field_function, at the window's start.

    The watermark equals the window, so a window is finished one window after it ends; until
    then each trigger's update rewrites the same point.
    """
    functions = {"avg": F.avg, "min": F.min, "max": F.max, "sum": F.sum, "count": F.count}
    columns = [
        functions[fn](F.col(field)).alias(f"{field}_{fn}")
        for field in agg.fields
        for fn in agg.functions
    ]
    return (
        valid.withWatermark("ts", agg.window)
        .groupBy(F.window("ts", agg.window), *spec.tags)
        .agg(*columns)
        .select(
            *spec.tags,
            F.lit(window_tag(agg)).alias("window"),
            *aggregate_columns(agg),
            (F.unix_micros(F.col("window.start")) * 1000).alias(TIME_COLUMN),
        )
    )
