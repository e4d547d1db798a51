"""Fixtures of the integration tier: the real HDFS as local processes.

Servers start lazily: a test that asks for none of these fixtures starts no JVM.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.hdfs import HdfsCluster
from harness.jars import JarsError, resolve_jars
from streamlab.settings import Settings

SETUP_HINT = "run ./tests/run.sh, which installs what the integration tests need"


@pytest.fixture(scope="session")
def hadoop_jars(settings: Settings) -> Path:
    """Folder of the hadoop image's jars (images/hadoop/pom.xml), fetched once and cached."""
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: {SETUP_HINT}", pytrace=False)
    try:
        return resolve_jars("hadoop", settings)
    except JarsError as error:
        pytest.fail(f"{error}\n({SETUP_HINT})", pytrace=False)


@pytest.fixture(scope="session")
def hdfs(hadoop_jars: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HdfsCluster]:
    """A NameNode + DataNode shared by the whole session: write under a path of your own."""
    with HdfsCluster(hadoop_jars, tmp_path_factory.mktemp("hdfs")) as cluster:
        yield cluster
