"""What the spec declares beyond the rows: alerts, windowed aggregates and the enriched
stream, computed over the enriched rows (enrichment.enrich) that the spec keeps."""

from __future__ import annotations

import operator

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DecimalType, NumericType, StringType

from streamlab.influx import SEQ_SLOTS, TIME_COLUMN
from streamlab.spec_processing import Alert
from streamlab.specs import DatasetSpec

from .enrichment import KEEP, any_of
from .expressions import boolean, checked
from .series import window_tag

_OPERATORS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
ISO_MICROS = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
_FUNCTIONS = {
    "avg": F.avg, "min": F.min, "max": F.max, "sum": F.sum, "count": F.count,
    "approx_count_distinct": F.approx_count_distinct,
    "first": lambda c: F.first(c, ignorenulls=True), "last": lambda c: F.last(c, ignorenulls=True),
}  # fmt: skip


def point_time(ts: str = "ts", seq: str = "seq") -> Column:
    """A row's point time in ns (streamlab.influx.point_time_ns): the same row always
    lands on the same point, so a replayed micro-batch overwrites instead of duplicating."""
    return (F.unix_micros(ts) * 1000 + F.pmod(F.col(seq), F.lit(SEQ_SLOTS))).alias(TIME_COLUMN)


def fires(alert: Alert) -> Column:
    """True where a row fires the alert (false where the rule is null)."""
    if alert.when is not None:
        rule = F.expr(alert.when)
    else:
        rule = _OPERATORS[alert.operator](F.col(alert.field), F.lit(alert.value))
    return F.coalesce(rule, F.lit(False))


def firing(spec: DatasetSpec) -> Column:
    """True where a kept row fires any of the spec's alerts."""
    return F.col(KEEP) & any_of([fires(a) for a in spec.alerts])


def check_alerts(enriched: DataFrame, spec: DatasetSpec) -> None:
    """Each `when` through Spark's parser and analyzer, and each column an alert carries."""
    for i, alert in enumerate(spec.alerts):
        if alert.when is not None:
            boolean(enriched, spec, f"alerts[{i}].when", alert.when)
        for column in alert.columns:
            checked(spec, f"alerts[{i}].columns", column, lambda c=column: enriched.select(c))


def _alert_columns(alert: Alert, spec: DatasetSpec) -> list[str]:
    """The spec's tags, then the columns the alert lists (each once)."""
    return list(dict.fromkeys([*spec.tags, *alert.columns]))


def _alert_message(alert: Alert, spec: DatasetSpec) -> Column:
    rule = [F.lit(alert.rule).alias("rule")]
    if alert.when is None:
        rule += [
            F.lit(alert.field).alias("field"),
            F.lit(alert.operator).alias("operator"),
            F.lit(alert.value).alias("threshold"),
            F.col(alert.field).cast("double").alias("value"),
        ]
    return F.to_json(
        F.struct(
            F.lit(spec.name).alias("dataset"),
            F.lit(alert.name).alias("alert"),
            *rule,
            *[F.col(c) for c in _alert_columns(alert, spec)],
            F.date_format("ts", ISO_MICROS).alias("ts"),
            F.col("seq"),
        )
    )


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def kafka_key(spec: DatasetSpec) -> Column:
    return F.col(spec.key).cast("string") if spec.key else F.lit(None).cast("string")


def alerts(kept: DataFrame, spec: DatasetSpec) -> DataFrame | None:
    """(key, value) rows for <dataset>.alerts, or None if no alert is declared."""
    if not spec.alerts:
        return None
    return _union(
        [
            kept.where(fires(a)).select(
                kafka_key(spec).alias("key"), _alert_message(a, spec).alias("value")
            )
            for a in spec.alerts
        ]
    )


def alert_rows(kept: DataFrame, spec: DatasetSpec) -> DataFrame | None:
    """The same alerts as rows of series.alert_series, or None if none are declared: the
    tags, `alert` (its name), fired=1, and a field alert's `value` and `threshold`, at
    their row's point time."""
    if not spec.alerts:
        return None
    return _union(
        [
            kept.where(fires(a)).select(
                *spec.tags,
                F.lit(a.name).alias("alert"),
                (F.col(a.field) if a.field else F.lit(None)).cast("double").alias("value"),
                F.lit(a.value).cast("double").alias("threshold"),
                F.lit(1).cast("long").alias("fired"),
                point_time(),
            )
            for a in spec.alerts
        ]
    )


def enriched_records(kept: DataFrame, spec: DatasetSpec) -> DataFrame:
    """(key, value) rows for <dataset>.enriched: each kept row's tags, fields, derived and
    looked-up columns, ts, original_ts and seq, as JSON."""
    columns = [*spec.point_tags, *spec.point_fields]
    value = F.to_json(
        F.struct(
            *columns,
            F.date_format("ts", ISO_MICROS).alias("ts"),
            F.date_format("original_ts", ISO_MICROS).alias("original_ts"),
            "seq",
        )
    )
    return kept.select(kafka_key(spec).alias("key"), value.alias("value"))


def aggregate(enriched: DataFrame, spec: DatasetSpec, index: int) -> DataFrame:
    """An aggregation's groups per window: its group_by columns, `window_start`,
    `window_end`, its columns (`<field>_<function>`, then the count), at the window's start.

    The watermark equals the window, so a window is finished one window after it ends; until
    then each trigger's update rewrites the same point (and sends the group again).
    """
    agg = spec.aggregations[index]
    rows = enriched.where(firing(spec) if agg.rows == "alerts" else F.col(KEEP))
    columns = [
        _FUNCTIONS[fn](F.col(field)).alias(f"{field}_{fn}")
        for field in agg.fields
        for fn in agg.functions
    ]
    if agg.count:
        columns.append(F.count(F.lit(1)).alias(agg.count))
    window = F.window("ts", agg.window, agg.slide) if agg.slide else F.window("ts", agg.window)

    def build() -> DataFrame:
        return (
            rows.withWatermark("ts", agg.window)
            .groupBy(window, *agg.group_by)
            .agg(*columns)
            .select(
                *agg.group_by,
                F.col("window.start").alias("window_start"),
                F.col("window.end").alias("window_end"),
                *agg.columns,
            )
        )

    described = ", ".join([*agg.group_by, *agg.columns])
    return checked(spec, f"aggregations[{index}]", described, build)


def aggregate_points(groups: DataFrame, spec: DatasetSpec, index: int) -> DataFrame:
    """An aggregate's groups as rows of series.aggregate_series (group columns as tags)."""
    agg = spec.aggregations[index]
    return groups.select(
        *[F.col(c).cast("string") for c in agg.group_by],
        F.lit(window_tag(agg)).alias("window"),
        F.lit(agg.name).alias("aggregation"),
        *[influx_value(groups, c) for c in agg.columns],
        (F.unix_micros("window_start") * 1000).alias(TIME_COLUMN),
    )


def aggregate_records(groups: DataFrame, spec: DatasetSpec, index: int) -> DataFrame:
    """An aggregate's groups as (key, value) rows for <dataset>.<name>; the key is the
    group and window start, so the last record of a key is its group's current value."""
    agg = spec.aggregations[index]
    start = F.date_format("window_start", ISO_MICROS).alias("window_start")
    end = F.date_format("window_end", ISO_MICROS).alias("window_end")
    key = F.to_json(F.struct(*agg.group_by, start))
    value = F.to_json(
        F.struct(
            F.lit(spec.name).alias("dataset"),
            F.lit(agg.name).alias("aggregation"),
            *agg.group_by,
            start,
            end,
            *agg.columns,
        )
    )
    return groups.select(key.alias("key"), value.alias("value"))


def influx_value(frame: DataFrame, name: str) -> Column:
    """A column as a type InfluxDB stores: decimals as doubles, and anything that is not a
    number, boolean or string (dates, arrays...) as its text."""
    kind: DataType = frame.schema[name].dataType
    if isinstance(kind, DecimalType):
        return F.col(name).cast("double").alias(name)
    if isinstance(kind, NumericType | StringType) or kind.typeName() == "boolean":
        return F.col(name)
    return F.col(name).cast("string").alias(name)
