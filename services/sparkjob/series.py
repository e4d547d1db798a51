"""What the job writes to InfluxDB, named once: each series' measurement, tags and fields,
and the points of the pipeline bucket. Plain Python, so the dashboards' tests read the
same names the job writes without starting Spark."""

from __future__ import annotations

import time
from typing import Any

from influxdb_client import Point

from streamlab.influx import Series, point
from streamlab.spec_processing import Aggregation, seconds
from streamlab.specs import DatasetSpec


def window_tag(agg: Aggregation) -> str:
    """The `window` tag of an aggregation's points: its length, '900s'."""
    return f"{seconds(agg.window)}s"


def data_series(spec: DatasetSpec) -> Series:
    """A row: the spec's tags and fields, then derived and looked-up ones."""
    return Series(spec.name, spec.point_tags, spec.point_fields)


def alert_series(spec: DatasetSpec) -> Series:
    """A row that fired an alert: fired=1, and for a field alert its value and threshold."""
    return Series(f"{spec.name}_alerts", (*spec.tags, "alert"), ("value", "threshold", "fired"))


def aggregate_series(spec: DatasetSpec, agg: Aggregation) -> Series:
    """A group's window, at the window's start."""
    return Series(f"{spec.name}_agg", (*agg.group_by, "window", "aggregation"), agg.columns)


def sink_point(dataset: str, batch_id: int, written: Any) -> Point:
    """A sinks micro-batch in the pipeline bucket: points written, rows that missed a
    lookup or were left out (by `where` or a lookup's on_miss: drop), and send-to-stored
    latency (latency_ms_p50, _p95, _max, when the batch had rows with a send time)."""
    fields: dict[str, Any] = {
        "points_written": written.points,
        "lookup_misses": written.missed,
        "rows_dropped": written.dropped,
        "batch_id": batch_id,
        **written.latency_ms,
    }
    return point("spark_sink", {"dataset": dataset}, fields, time.time_ns())


def dataset_point(dataset: str, queries: int, error: str = "") -> Point:
    """A dataset's state when the job starts: its queries running, or the error that kept
    it from starting (an expression Spark refuses)."""
    fields: dict[str, Any] = {"queries": queries, "failed": int(bool(error))}
    if error:
        fields["error"] = error
    return point("spark_dataset", {"dataset": dataset}, fields, time.time_ns())


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN when a batch had no input


def progress_fields(progress: Any) -> dict[str, float | int]:
    """Input and processed rows/s, batch duration, rows, and Kafka offsets behind latest."""
    fields: dict[str, float | int] = {
        "batch_id": int(progress.batchId),
        "num_input_rows": int(progress.numInputRows),
        "batch_duration_ms": int(progress.batchDuration),
    }
    for name, value in (
        ("input_rows_per_s", progress.inputRowsPerSecond),
        ("processed_rows_per_s", progress.processedRowsPerSecond),
    ):
        if (number := _number(value)) is not None:
            fields[name] = number
    trigger_ms = (progress.durationMs or {}).get("triggerExecution")
    if trigger_ms is not None:
        fields["trigger_execution_ms"] = int(trigger_ms)
    for source in progress.sources or []:
        behind = _number((source.metrics or {}).get("maxOffsetsBehindLatest"))
        if behind is not None:
            fields["offsets_behind"] = behind
    return fields


def query_point(progress: Any) -> Point | None:
    """A query's progress in the pipeline bucket (spark_query)."""
    name = progress.name or str(progress.id)
    dataset, _, kind = name.partition(".")
    tags = {"query": name, "dataset": dataset, "kind": kind}
    return point("spark_query", tags, progress_fields(progress), time.time_ns())
