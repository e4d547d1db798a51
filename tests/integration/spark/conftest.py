"""Fixtures of the Spark tests: pyspark in local mode with the spark image's Kafka connector.

The session starts lazily, once: a test that asks for none of these fixtures starts no JVM.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from harness.hdfs import HdfsCluster
from harness.spark import SparkHarnessError, spark_session

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
