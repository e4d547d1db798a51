"""Fixtures of the integration tier: the real HDFS as local processes.

Servers start lazily: a test that asks for none of these fixtures starts no JVM.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.hdfs import HdfsCluster


@pytest.fixture(scope="session")
def hdfs(hadoop_jars: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HdfsCluster]:
    """A NameNode + DataNode shared by the whole session: write under a path of your own."""
    with HdfsCluster(hadoop_jars, tmp_path_factory.mktemp("hdfs")) as cluster:
        yield cluster
