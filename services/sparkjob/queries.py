"""The streaming queries of one dataset, all derived from its spec.

- <dataset>.raw_layer: valid rows appended as Parquet partitioned by date (the file sink's
  own log makes it exactly-once), at its own, longer trigger: fewer, larger files;
- <dataset>.sinks: per micro-batch, points to InfluxDB (idempotent), dead letters and
  alerts to Kafka;
- <dataset>.agg<N>: windowed aggregates per tag, written as <dataset>_agg points.
Each query has its own checkpoint, so each can be restarted on its own.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from streamlab.specs import DatasetSpec

from .config import JobConfig
from .derived import aggregate
from .parsing import parse, valid_rows
from .sinks import BatchContext, process_aggregates, process_batch


def kafka_stream(spark: SparkSession, spec: DatasetSpec, config: JobConfig) -> DataFrame:
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", config.kafka_bootstrap)
        .option("subscribe", spec.raw_topic)
        .option("startingOffsets", config.starting_offsets)
        .option("maxOffsetsPerTrigger", config.max_offsets_per_trigger)
        .option("kafka.max.poll.records", config.kafka_max_poll_records)
        .option("maxRecordsPerPartition", config.kafka_max_records_per_partition)
        .option("kafka.fetch.max.wait.ms", config.kafka_fetch_max_wait_ms)
        .option("failOnDataLoss", "false")
        .load()
    )


def start_dataset(
    spark: SparkSession, spec: DatasetSpec, config: JobConfig, ctx: BatchContext
) -> list[StreamingQuery]:
    parsed = parse(kafka_stream(spark, spec, config), spec)
    trigger = {"processingTime": config.trigger_interval}
    queries = [
        valid_rows(parsed, spec)
        .writeStream.queryName(f"{spec.name}.raw_layer")
        .format("parquet")
        .partitionBy("date")
        .option("path", config.raw_path(spec.name))
        .option("checkpointLocation", config.checkpoint(spec.name, "raw_layer"))
        .trigger(processingTime=config.raw_layer_trigger_interval)
        .start(),
        parsed.writeStream.queryName(f"{spec.name}.sinks")
        .foreachBatch(process_batch(ctx))
        .option("checkpointLocation", config.checkpoint(spec.name, "sinks"))
        .trigger(**trigger)
        .start(),
    ]
    for number, agg in enumerate(spec.aggregations):
        queries.append(
            aggregate(valid_rows(parsed, spec), spec, agg)
            .writeStream.queryName(f"{spec.name}.agg{number}")
            .outputMode("update")
            .foreachBatch(process_aggregates(ctx, agg))
            .option("checkpointLocation", config.checkpoint(spec.name, f"agg{number}"))
            .trigger(**trigger)
            .start()
        )
    return queries
