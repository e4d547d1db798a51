"""What the job writes to InfluxDB, named once: each series' measurement, tags and fields,
and the points of the pipeline bucket. Plain Python, so the dashboards' tests read the
same names the job writes without starting Spark."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from influxdb_client import Point

from streamlab.influx import point
from streamlab.specs import Aggregation, DatasetSpec

TIME_COLUMN = "_time_ns"
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}


@dataclass(frozen=True)
class Series:
    measurement: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]


def window_seconds(window: str) -> int:
    """'1 minutes' -> 60."""
    amount, unit = re.fullmatch(r"(\d+) (seconds|minutes|hours)", window).groups()
    return int(amount) * _UNIT_SECONDS[unit]


def window_tag(agg: Aggregation) -> str:
    return f"{window_seconds(agg.window)}s"


def aggregate_columns(agg: Aggregation) -> list[str]:
    return [f"{field}_{fn}" for field in agg.fields for fn in agg.functions]


def data_series(spec: DatasetSpec) -> Series:
    return Series(spec.name, tuple(spec.tags), tuple(spec.field_names))


def alert_series(spec: DatasetSpec) -> Series:
    return Series(f"{spec.name}_alerts", (*spec.tags, "alert"), ("value", "threshold"))


def aggregate_series(spec: DatasetSpec, agg: Aggregation) -> Series:
    return Series(f"{spec.name}_agg", (*spec.tags, "window"), tuple(aggregate_columns(agg)))


def sink_point(dataset: str, batch_id: int, written: int, latency: dict[str, float]) -> Point:
    """A sinks micro-batch in the pipeline bucket: points written and send-to-stored
    latency (latency_ms_p50, _p95, _max, when the batch had rows with a send time)."""
    fields: dict[str, Any] = {"points_written": written, "batch_id": batch_id, **latency}
    return point("spark_sink", {"dataset": dataset}, fields, time.time_ns())


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
