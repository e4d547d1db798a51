"""Fixtures shared by every test tier: the real ZooKeeper, Kafka and InfluxDB as local
processes.

Servers start lazily: a test that asks for none of these fixtures starts no JVM.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.influx import InfluxLab, InfluxServer, influxd_binary, set_up_lab
from harness.jars import JarsError, resolve_jars
from harness.kafka import KafkaBroker, ServerError, ZooKeeperServer
from streamlab.settings import Settings

SETUP_HINT = "run ./tests/run.sh, which installs what the integration tests need"
log = logging.getLogger("streamlab.tests")


def pytest_report_header() -> str | None:
    """The InfluxDB the tests run against, when one is already at hand (tests/run.sh)."""
    binary = os.environ.get("INFLUXD")
    if not binary:
        return None
    version = subprocess.run([binary, "version"], capture_output=True, text=True).stdout
    return f"influxd: {version.strip()} ({binary})"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.load()


def _jars(image: str, settings: Settings) -> Path:
    """Folder of an image's jars (images/<image>/pom.xml), fetched once and cached."""
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: {SETUP_HINT}", pytrace=False)
    try:
        return resolve_jars(image, settings)
    except JarsError as error:
        pytest.fail(f"{error}\n({SETUP_HINT})", pytrace=False)


@pytest.fixture(scope="session")
def kafka_jars(settings: Settings) -> Path:
    return _jars("kafka", settings)


@pytest.fixture(scope="session")
def hadoop_jars(settings: Settings) -> Path:
    return _jars("hadoop", settings)


@pytest.fixture(scope="session")
def spark_jars(settings: Settings) -> Path:
    """The spark image's extra jars: the Kafka connector and what it adds to pyspark's."""
    return _jars("spark", settings)


@pytest.fixture(scope="session")
def zookeeper(
    kafka_jars: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ZooKeeperServer]:
    """The ZooKeeper of the shared `kafka` broker."""
    with ZooKeeperServer(kafka_jars, tmp_path_factory.mktemp("zookeeper")) as server:
        yield server


@pytest.fixture(scope="session")
def kafka(
    kafka_jars: Path, zookeeper: ZooKeeperServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KafkaBroker]:
    """A broker shared by the whole session: never stop or restart it (use private_kafka)."""
    with KafkaBroker(kafka_jars, zookeeper, tmp_path_factory.mktemp("kafka")) as broker:
        yield broker


@pytest.fixture
def private_kafka(
    kafka_jars: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., KafkaBroker]]:
    """Factory of started brokers, each with its own ZooKeeper, free to stop, kill, restart.

    private_kafka(**broker_properties) -> KafkaBroker; all are stopped after the test.
    """
    started: list[KafkaBroker | ZooKeeperServer] = []

    def start(**properties: str) -> KafkaBroker:
        zk = ZooKeeperServer(kafka_jars, tmp_path_factory.mktemp("private-zookeeper"))
        started.append(zk.start())
        broker = KafkaBroker(
            kafka_jars, zk, tmp_path_factory.mktemp("private-kafka"), properties=properties
        )
        started.append(broker)
        return broker.start()

    yield start
    # Brokers first: a broker whose ZooKeeper is gone hangs in its controlled shutdown.
    for server in reversed(started):
        server.close()


@pytest.fixture
def topic_factory(request: pytest.FixtureRequest) -> Callable[..., str]:
    """topic_factory(partitions=1, broker=None, configs=None) -> name of a new, unique topic.

    The topic lives on `broker`, or on the shared `kafka` broker when none is given.
    """
    base = _topic_base(request.node.name)

    def create(
        partitions: int = 1,
        broker: KafkaBroker | None = None,
        configs: dict[str, str] | None = None,
    ) -> str:
        broker = broker or request.getfixturevalue("kafka")
        name = f"{base}-{uuid.uuid4().hex[:8]}"
        return broker.create_topic(name, partitions, configs)

    return create


@pytest.fixture
def new_topic(topic_factory: Callable[..., str]) -> str:
    """A new single-partition topic on the shared `kafka` broker."""
    return topic_factory()


def _topic_base(test_name: str) -> str:
    # Kafka allows [a-zA-Z0-9._-] in topic names, at most 249 characters.
    return "t-" + re.sub(r"[^a-zA-Z0-9._-]+", "-", test_name).strip("-")[:80]


@pytest.fixture
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxLab]:
    """A new real influxd on 127.0.0.1, set up as the provisioner leaves InfluxDB (org,
    data and pipeline buckets, write and read tokens); stopped after the test."""
    try:
        binary = influxd_binary()
    except ServerError as error:
        pytest.fail(f"{error}\n({SETUP_HINT})", pytrace=False)
    with InfluxServer(tmp_path_factory.mktemp("influxd")) as server:
        log.info("InfluxDB %s (%s) on %s", server.version(), binary, server.url)
        yield set_up_lab(server)
