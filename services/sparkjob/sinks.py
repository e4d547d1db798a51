"""foreachBatch sinks: data points, aggregates, dead letters and alerts of one micro-batch.

Points go to InfluxDB from the executors (frame_writes), in batches through the one write
path; the executors send back only per-row outcomes, which the driver sums and writes to
the pipeline bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streamlab.influx import InfluxTarget, write_points
from streamlab.specs import Aggregation, DatasetSpec

from .derived import alert_rows, alerts, fires, point_time
from .frame_writes import FLAG, POINT, SENT_MS, write_frame
from .parsing import deadletters, valid_rows
from .series import aggregate_series, alert_series, data_series, sink_point


@dataclass(frozen=True)
class BatchContext:
    spec: DatasetSpec
    data: InfluxTarget
    pipeline: InfluxTarget
    kafka_bootstrap: str


def point_rows(parsed: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Every row of the batch with its point's columns, POINT (a valid row) and FLAG (it
    needs a dead letter or an alert). Nothing is filtered in the JVM: Spark 4.0 would push
    a filter on parsed columns below the parsing and parse every record again
    (SPARK-47672); the executors' Python chooses the rows instead."""
    valid = F.col("reason").isNull()
    needs_messages = reduce(Column.__or__, (fires(a) for a in spec.alerts), ~valid)
    return parsed.select(
        *spec.tags,
        *spec.field_names,
        point_time(),
        SENT_MS,
        valid.alias(POINT),
        F.coalesce(needs_messages, F.lit(False)).alias(FLAG),
    )


def kafka_messages(parsed: DataFrame, valid: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Dead letters and alerts as one frame with a topic column: one Kafka write per batch."""
    no_key = F.lit(None).cast("string").alias("key")
    messages = deadletters(parsed, spec).select(
        F.lit(spec.deadletter_topic).alias("topic"), no_key, "value"
    )
    alerting = alerts(valid, spec)
    if alerting is not None:
        topic = F.lit(spec.alerts_topic).alias("topic")
        messages = messages.unionByName(alerting.select(topic, "key", "value"))
    return messages


def _to_kafka(messages: DataFrame, bootstrap: str) -> None:
    messages.write.format("kafka").option("kafka.bootstrap.servers", bootstrap).save()


def write_messages(parsed: DataFrame, ctx: BatchContext) -> None:
    """Dead letters and alerts, in one Kafka write, then the alert points: the batch read
    again (from Kafka, and parsed) and cached for these scans."""
    cached = parsed.persist()
    try:
        valid = valid_rows(cached, ctx.spec)
        _to_kafka(kafka_messages(cached, valid, ctx.spec), ctx.kafka_bootstrap)
        firing = alert_rows(valid, ctx.spec)
        if firing is not None:
            write_frame(firing, ctx.data, alert_series(ctx.spec))
    finally:
        cached.unpersist()


def process_batch(ctx: BatchContext) -> Callable[[DataFrame, int], None]:
    """The foreachBatch function of a dataset's `sinks` query (parsed Kafka records in).

    Points first, in one pass that also counts the rows that need messages; a batch with
    any then has its dead letters and alerts written (write_messages). The batch's
    commit follows its messages, so a query stopped between them re-sends them: dead
    letters and alerts are at least once, points are idempotent.
    """

    def run(parsed: DataFrame, batch_id: int) -> None:
        written = write_frame(point_rows(parsed, ctx.spec), ctx.data, data_series(ctx.spec))
        if written.flagged:
            write_messages(parsed, ctx)
        point = sink_point(ctx.spec.name, batch_id, written.points, written.latency_ms)
        write_points(ctx.pipeline, [point])

    return run


def process_aggregates(ctx: BatchContext, agg: Aggregation) -> Callable[[DataFrame, int], None]:
    """foreachBatch of an aggregate query (update mode): each window's point is rewritten."""
    series = aggregate_series(ctx.spec, agg)

    def run(updates: DataFrame, batch_id: int) -> None:
        write_frame(updates, ctx.data, series)

    return run
