"""What the spec declares beyond the rows: threshold alerts and windowed aggregates."""

from __future__ import annotations

import operator
import re

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streamlab.specs import Aggregation, Alert, DatasetSpec

_OPERATORS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}


def window_seconds(window: str) -> int:
    """'1 minutes' -> 60."""
    amount, unit = re.fullmatch(r"(\d+) (seconds|minutes|hours)", window).groups()
    return int(amount) * _UNIT_SECONDS[unit]


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
    """The same alerts as rows for <dataset>_alerts points, or None if none are declared.

    Columns: the tags, `alert` (its name), `value`, `threshold`, and the row's ts_us and seq,
    so an alert's point has its row's point time and a replayed batch overwrites it.
    """
    if not spec.alerts:
        return None
    return _union(
        [
            valid.where(fires(a)).select(
                *spec.tags,
                F.lit(a.name).alias("alert"),
                F.col(a.field).cast("double").alias("value"),
                F.lit(a.value).cast("double").alias("threshold"),
                "ts_us",
                "seq",
            )
            for a in spec.alerts
        ]
    )


def aggregate(valid: DataFrame, spec: DatasetSpec, agg: Aggregation) -> DataFrame:
    """Per-tag windowed aggregates. Columns: tags, window_start, one column per field_function.

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
            F.unix_micros(F.col("window.start")).alias("window_us"),
            *aggregate_columns(agg),
        )
    )


def aggregate_columns(agg: Aggregation) -> list[str]:
    return [f"{field}_{fn}" for field in agg.fields for fn in agg.functions]
