"""Fixtures of the Spark tests: pyspark in local mode with the spark image's Kafka connector.

The session starts lazily, once: a test that asks for none of these fixtures starts no JVM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from harness.hdfs import HdfsCluster
from harness.influx import InfluxLab
from harness.spark import SparkHarnessError, settings_job_config, spark_session
from sparkjob.config import JobConfig
from sparkjob.job import start
from streamlab.specs import DatasetSpec

SETUP_HINT = "run ./tests/run.sh, which installs what the integration tests need"


@pytest.fixture(scope="session")
def spark(spark_jars: Path, hdfs: HdfsCluster) -> Iterator[SparkSession]:
    """One local[2] SparkSession for the whole test session, its Hadoop client on `hdfs`.

    Shared: never stop it; leave its runtime conf as you found it.
    """
    try:
        session = spark_session("streamlab-tests", spark_jars, hdfs.conf_dir)
    except SparkHarnessError as error:
        pytest.fail(f"{error}\n({SETUP_HINT})", pytrace=False)
    yield session
    session.stop()


def job_config(hdfs, kafka, influx: InfluxLab, tmp: Path, name: str) -> JobConfig:
    return settings_job_config(
        datasets_dir=tmp, master="local[2]", kafka_bootstrap=kafka.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/processing/{name}/raw",
        checkpoint_uri=f"{hdfs.uri}/processing/{name}/checkpoints",
        influx_url=influx.url, influx_org="streamlab", influx_bucket="streamlab",
        pipeline_bucket="pipeline", token_file=tmp / "unused.token",
        trigger_interval="1 second", raw_layer_trigger_interval="5 seconds",
    )  # fmt: skip


@pytest.fixture
def running(
    spark, kafka, hdfs, influx: InfluxLab, tmp_path
) -> Iterator[Callable[[DatasetSpec], JobConfig]]:
    """start(spec): the job's queries for one dataset, stopped after the test."""
    queries: list = []

    def run(spec: DatasetSpec) -> JobConfig:
        config = job_config(hdfs, kafka, influx, tmp_path, spec.name)
        queries.extend(start(spark, {spec.name: spec}, config, influx.write_token))
        return config

    yield run
    for query in queries:
        query.stop()
