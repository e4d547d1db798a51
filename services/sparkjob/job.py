"""Starts every dataset's queries and the progress listener, then waits."""

from __future__ import annotations

from dataclasses import replace

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from streamlab.influx import InfluxTarget, read_token
from streamlab.specs import DatasetSpec

from .config import JobConfig
from .offsets import OffsetCommitter
from .progress import PipelineListener
from .queries import start_dataset
from .sinks import BatchContext


def influx_targets(config: JobConfig, token: str) -> tuple[InfluxTarget, InfluxTarget]:
    data = InfluxTarget(
        config.influx_url, config.influx_org, config.influx_bucket, token,
        batch_size=config.influx_batch_size,
    )  # fmt: skip
    return data, replace(data, bucket=config.pipeline_bucket)


def start(
    spark: SparkSession,
    specs: dict[str, DatasetSpec],
    config: JobConfig,
    token: str | None = None,
) -> list[StreamingQuery]:
    """Starts the queries of every selected dataset; returns them all."""
    data, pipeline = influx_targets(config, token or read_token(config.token_file))
    committer = OffsetCommitter(config.kafka_bootstrap)
    spark.streams.addListener(PipelineListener(pipeline, committer))
    queries: list[StreamingQuery] = []
    for name, spec in sorted(specs.items()):
        if config.selects(name):
            ctx = BatchContext(spec, data, pipeline, config.kafka_bootstrap)
            queries.extend(start_dataset(spark, spec, config, ctx))
    return queries
