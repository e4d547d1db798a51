"""foreachBatch sinks: data points, aggregates, dead letters and alerts of one micro-batch.

Points go to InfluxDB from the executors, one batched gzip request per few thousand lines
per partition; the executors send back only counts and latencies, which the driver writes
to the pipeline bucket.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from streamlab.specs import Aggregation, DatasetSpec

from .derived import aggregate_columns, alerts, window_seconds
from .influx import InfluxTarget, write_lines
from .lineprotocol import line, lines, point_time_ns
from .parsing import deadletters, valid_rows


@dataclass(frozen=True)
class BatchContext:
    spec: DatasetSpec
    data: InfluxTarget
    pipeline: InfluxTarget
    kafka_bootstrap: str


def _write_partition(
    target: InfluxTarget, spec: DatasetSpec
) -> Callable[[Iterator[Any]], Iterator[tuple[int, list[int]]]]:
    tags, fields = spec.tags, spec.field_names

    def write(rows: Iterator[Any]) -> Iterator[tuple[int, list[int]]]:
        batch = [row.asDict() for row in rows]
        if not batch:
            return
        written = write_lines(target, lines(spec.name, batch, tags, fields))
        done_ms = int(time.time() * 1000)
        yield written, [done_ms - r["sent_ms"] for r in batch if r["sent_ms"] is not None]

    return write


def write_points(valid: DataFrame, ctx: BatchContext) -> tuple[int, list[int]]:
    """Writes a batch's rows as points; returns (points written, per-row latencies in ms)."""
    columns = [*ctx.spec.tags, *ctx.spec.field_names, "ts_us", "seq", "sent_ms"]
    results = valid.select(*columns).rdd.mapPartitions(_write_partition(ctx.data, ctx.spec))
    written, latencies = 0, []
    for count, lat in results.collect():
        written += count
        latencies.extend(lat)
    return written, latencies


def _to_kafka(frame: DataFrame | None, topic: str, bootstrap: str) -> None:
    if frame is None:
        return
    (
        frame.write.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("topic", topic)
        .save()
    )


def pipeline_line(ctx: BatchContext, batch_id: int, written: int, latencies: list[int]) -> str:
    fields: dict[str, Any] = {"points_written": written, "batch_id": batch_id}
    if latencies:
        ordered = sorted(latencies)
        fields["latency_ms_p50"] = float(statistics.median(ordered))
        fields["latency_ms_p95"] = float(ordered[int(0.95 * (len(ordered) - 1))])
        fields["latency_ms_max"] = float(ordered[-1])
    return line("spark_sink", {"dataset": ctx.spec.name}, fields, time.time_ns())


def process_batch(ctx: BatchContext) -> Callable[[DataFrame, int], None]:
    """The foreachBatch function of a dataset's `sinks` query (parsed Kafka records in)."""

    def run(parsed: DataFrame, batch_id: int) -> None:
        parsed.persist()
        try:
            valid = valid_rows(parsed, ctx.spec)
            written, latencies = write_points(valid, ctx)
            _to_kafka(deadletters(parsed, ctx.spec), ctx.spec.deadletter_topic, ctx.kafka_bootstrap)
            _to_kafka(alerts(valid, ctx.spec), ctx.spec.alerts_topic, ctx.kafka_bootstrap)
            write_lines(ctx.pipeline, [pipeline_line(ctx, batch_id, written, latencies)])
        finally:
            parsed.unpersist()

    return run


def aggregate_lines(rows: list[dict[str, Any]], spec: DatasetSpec, agg: Aggregation) -> list[str]:
    window_tag = f"{window_seconds(agg.window)}s"
    out = []
    for row in rows:
        tags = {**{t: row[t] for t in spec.tags}, "window": window_tag}
        fields = {c: row[c] for c in aggregate_columns(agg)}
        text = line(f"{spec.name}_agg", tags, fields, point_time_ns(row["window_us"], 0))
        if text is not None:
            out.append(text)
    return out


def process_aggregates(ctx: BatchContext, agg: Aggregation) -> Callable[[DataFrame, int], None]:
    """foreachBatch of an aggregate query (update mode): each window's point is rewritten."""

    def run(updates: DataFrame, batch_id: int) -> None:
        rows = [r.asDict() for r in updates.collect()]
        if rows:
            write_lines(ctx.data, aggregate_lines(rows, ctx.spec, agg))

    return run
