"""The streaming queries of one dataset, all derived from its spec.

- <dataset>.raw_layer: valid rows as received, appended as Parquet partitioned by date (the
  file sink's own log makes it exactly-once), at its own, longer trigger: fewer, larger
  files;
- <dataset>.sinks: per micro-batch, the enriched rows (derive, lookups, where) as points to
  InfluxDB (idempotent); dead letters, alerts and the enriched stream to Kafka;
- <dataset>.<aggregation name>: windowed aggregates per group, to <dataset>_agg points
  and/or the topic <dataset>.<name>.
Each query has its own checkpoint, so each can be restarted on its own.

Every frame is built (and so every expression parsed and analyzed by Spark) before any
query starts: a spec Spark refuses starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

from streamlab.spark.parsing import parse, raw_topic_stream, valid_rows
from streamlab.specs import DatasetSpec

from .config import JobConfig
from .derived import aggregate, check_alerts
from .enrichment import enrich, load_table
from .sinks import BatchContext, point_rows, process_aggregates, process_batch


@dataclass(frozen=True)
class DatasetPlan:
    """A dataset's frames, checked, ready to start."""

    spec: DatasetSpec
    raw_layer: DataFrame
    enriched: DataFrame
    aggregates: tuple[DataFrame, ...]


def kafka_stream(spark: SparkSession, spec: DatasetSpec, config: JobConfig) -> DataFrame:
    return raw_topic_stream(
        spark, config.kafka_bootstrap, spec,
        startingOffsets=config.starting_offsets,
        maxOffsetsPerTrigger=config.max_offsets_per_trigger,
        maxRecordsPerPartition=config.kafka_max_records_per_partition,
        **{"kafka.max.poll.records": config.kafka_max_poll_records,
           "kafka.fetch.max.wait.ms": config.kafka_fetch_max_wait_ms},
    )  # fmt: skip


def plan_dataset(spark: SparkSession, spec: DatasetSpec, config: JobConfig) -> DatasetPlan:
    """The dataset's frames; raises ExpressionError for an expression Spark refuses."""
    parsed = parse(kafka_stream(spark, spec, config), spec)
    tables = [load_table(spark, spec, i) for i in range(len(spec.lookups))]
    enriched = enrich(parsed, spec, tables)
    check_alerts(enriched, spec)
    point_rows(enriched, spec)  # analyzed now: a column that cannot be a point fails here
    aggregates = tuple(aggregate(enriched, spec, i) for i in range(len(spec.aggregations)))
    return DatasetPlan(spec, valid_rows(parsed, spec), enriched, aggregates)


def _stream(frame: DataFrame, config: JobConfig, spec: DatasetSpec, query: str) -> DataStreamWriter:
    return (
        frame.writeStream.queryName(f"{spec.name}.{query}")
        .option("checkpointLocation", config.checkpoint(spec.name, query))
    )  # fmt: skip


def start_results(plan: DatasetPlan, config: JobConfig, ctx: BatchContext) -> list[StreamingQuery]:
    """The dataset's sinks query and one query per aggregation."""
    spec = plan.spec
    trigger = {"processingTime": config.trigger_interval}
    queries = [
        _stream(plan.enriched, config, spec, "sinks")
        .foreachBatch(process_batch(ctx))
        .trigger(**trigger)
        .start(),
    ]
    for index, (agg, groups) in enumerate(zip(spec.aggregations, plan.aggregates, strict=True)):
        queries.append(
            _stream(groups, config, spec, agg.name)
            .outputMode("update")
            .foreachBatch(process_aggregates(ctx, index))
            .trigger(**trigger)
            .start()
        )
    return queries


def start_raw_layer(plan: DatasetPlan, config: JobConfig) -> StreamingQuery:
    spec = plan.spec
    return (
        _stream(plan.raw_layer, config, spec, "raw_layer")
        .format("parquet")
        .partitionBy("date")
        .option("path", config.raw_path(spec.name))
        .trigger(processingTime=config.raw_layer_trigger_interval)
        .start()
    )
