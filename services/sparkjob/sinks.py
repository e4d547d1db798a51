"""foreachBatch sinks: data points, aggregates, dead letters, alerts and the enriched stream
of one micro-batch.

Points go to InfluxDB from the executors (frame_writes), in batches through the one write
path; the executors send back only per-row outcomes, which the driver sums and writes to
the pipeline bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from streamlab.influx import InfluxTarget, write_points
from streamlab.spark.frame_writes import DROPPED, FLAG, MISSED, POINT, SENT_MS, write_frame
from streamlab.spark.parsing import deadletters
from streamlab.specs import DatasetSpec

from .derived import (
    aggregate_points,
    aggregate_records,
    alert_rows,
    alerts,
    enriched_records,
    firing,
    influx_value,
    point_time,
)
from .enrichment import KEEP
from .series import aggregate_series, alert_series, data_series, sink_point

# Serialized, so the block store counts its memory exactly and spills to disk when short;
# the default (deserialized) level can run a large batch out of heap (docs/decisions.md,
# "The Spark benchmark").
BATCH_CACHE = StorageLevel.MEMORY_AND_DISK


@dataclass(frozen=True)
class BatchContext:
    spec: DatasetSpec
    data: InfluxTarget
    pipeline: InfluxTarget
    kafka_bootstrap: str


def point_rows(enriched: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Every row of the batch with its point's columns, POINT (a kept row), FLAG (it needs
    a dead letter, an alert or an enriched record), MISSED and DROPPED (a valid row left
    out). Nothing is filtered in the JVM: Spark 4.0 would push a filter on parsed columns
    below the parsing and parse every record again (SPARK-47672); the executors' Python
    chooses the rows instead."""
    valid, kept = F.col("reason").isNull(), F.col(KEEP)
    needs_messages = ~valid | firing(spec) | (kept & F.lit(spec.enriched))
    return enriched.select(
        *spec.point_tags,
        *[influx_value(enriched, c) for c in spec.point_fields],
        point_time(),
        SENT_MS,
        kept.alias(POINT),
        F.coalesce(needs_messages, F.lit(False)).alias(FLAG),
        MISSED,
        (valid & ~kept).alias(DROPPED),
    )


def kafka_messages(enriched: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Dead letters, alerts and enriched records as one frame with a topic column: one
    Kafka write per batch."""
    no_key = F.lit(None).cast("string").alias("key")
    messages = deadletters(enriched, spec).select(
        F.lit(spec.deadletter_topic).alias("topic"), no_key, "value"
    )
    kept = enriched.where(F.col(KEEP))
    outputs = [(spec.alerts_topic, alerts(kept, spec))]
    if spec.enriched:
        outputs.append((spec.enriched_topic, enriched_records(kept, spec)))
    for topic, frame in outputs:
        if frame is not None:
            messages = messages.unionByName(frame.select(F.lit(topic).alias("topic"), "*"))
    return messages


def to_kafka(messages: DataFrame, bootstrap: str, topic: str | None = None) -> None:
    """(key, value) rows to `topic`, or (topic, key, value) rows to their topics."""
    writer = messages.write.format("kafka").option("kafka.bootstrap.servers", bootstrap)
    if topic is not None:
        writer = writer.option("topic", topic)
    writer.save()


def write_messages(enriched: DataFrame, ctx: BatchContext) -> None:
    """Dead letters, alerts and enriched records in one Kafka write, then the alert points:
    the batch read again (from Kafka, and parsed) and cached for these scans, unless the
    caller cached it already."""
    owned = not enriched.is_cached
    cached = enriched.persist(BATCH_CACHE) if owned else enriched
    try:
        to_kafka(kafka_messages(cached, ctx.spec), ctx.kafka_bootstrap)
        fired = alert_rows(cached.where(F.col(KEEP)), ctx.spec)
        if fired is not None:
            write_frame(fired, ctx.data, alert_series(ctx.spec))
    finally:
        if owned:
            cached.unpersist()


def process_batch(ctx: BatchContext) -> Callable[[DataFrame, int], None]:
    """The foreachBatch function of a dataset's `sinks` query (enriched rows in).

    Points first, in one pass that also counts the rows that need messages; a batch with
    any then has its dead letters, alerts and enriched records written (write_messages).
    The batch's commit follows its messages, so a query stopped between them re-sends
    them: messages are at least once, points are idempotent.
    """

    def run(enriched: DataFrame, batch_id: int) -> None:
        # With `enriched`, every batch has messages: cached now, it is read and parsed once.
        cached = enriched.persist(BATCH_CACHE) if ctx.spec.enriched else enriched
        try:
            written = write_frame(point_rows(cached, ctx.spec), ctx.data, data_series(ctx.spec))
            if written.flagged:
                write_messages(cached, ctx)
        finally:
            if ctx.spec.enriched:
                cached.unpersist()
        write_points(ctx.pipeline, [sink_point(ctx.spec.name, batch_id, written)])

    return run


def process_aggregates(ctx: BatchContext, index: int) -> Callable[[DataFrame, int], None]:
    """foreachBatch of an aggregate query (update mode): each updated group's window to
    InfluxDB (the point rewritten) and/or to the topic <dataset>.<name>."""
    agg = ctx.spec.aggregations[index]
    series = aggregate_series(ctx.spec, agg)

    def run(groups: DataFrame, batch_id: int) -> None:
        if "influxdb" in agg.outputs:
            write_frame(aggregate_points(groups, ctx.spec, index), ctx.data, series)
        if "kafka" in agg.outputs:
            records = aggregate_records(groups, ctx.spec, index)
            to_kafka(records, ctx.kafka_bootstrap, f"{ctx.spec.name}.{agg.name}")

    return run
