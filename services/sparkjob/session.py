"""The SparkSession the job runs in; the connector jars come from the image (no downloads)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from streamlab.spark.conf import JOB_SQL_CONF

from .config import JobConfig


def build_session(config: JobConfig, app_name: str = "streamlab", **extra: str) -> SparkSession:
    builder = (
        SparkSession.builder.appName(app_name)
        .master(config.master)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(config.shuffle_partitions))
        .config("spark.sql.streaming.stateStore.stateSchemaCheck", "true")
    )
    for key, value in {**JOB_SQL_CONF, **extra}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
