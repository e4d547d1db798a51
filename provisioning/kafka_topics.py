"""Step 1: every topic of every dataset (DatasetSpec.topics: raw, dead-letter, alerts,
enriched and aggregate topics), with the spec's partitions."""

from __future__ import annotations

import re
from collections.abc import Mapping

from kafka import KafkaAdminClient
from kafka.errors import (
    InvalidReplicationFactorError,
    KafkaError,
)

from streamlab.kafka_admin import create_topic
from streamlab.specs import DatasetSpec

from .config import KafkaConfig
from .report import CREATED, PRESENT, UPDATED, ProvisionError, Report
from .waiting import NotReady, wait_for

SERVICE = "kafka"
CLIENT_ID = "streamlab-provisioner"
UNKNOWN_TOPIC = 3  # UNKNOWN_TOPIC_OR_PARTITION
_BROKER_MESSAGE = re.compile(r"error_message=(['\"])(.*?)\1")


def wanted_topics(specs: Mapping[str, DatasetSpec]) -> dict[str, int]:
    """Topic name -> partitions: every topic of a spec (DatasetSpec.topics, the list the
    metrics collector reads too) has the spec's count."""
    return {name: spec.partitions for spec in specs.values() for name, _kind in spec.topics}


def provision_topics(
    config: KafkaConfig, specs: Mapping[str, DatasetSpec], report: Report, wait_s: float
) -> None:
    admin = wait_for(
        SERVICE,
        f"the broker at {config.bootstrap_servers}",
        lambda: _connect(config),
        timeout_s=wait_s,
        fix="start Kafka (docker compose up -d kafka) or set KAFKA_BOOTSTRAP_SERVERS",
        report=report,
    )
    try:
        wanted = wanted_topics(specs)
        existing = _partition_counts(admin, list(wanted))
        for name, partitions in wanted.items():
            _ensure_topic(admin, config, name, partitions, existing.get(name), report)
    finally:
        admin.close()


def partitions(count: int) -> str:
    return f"{count} partition{'' if count == 1 else 's'}"


def _connect(config: KafkaConfig) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(
            bootstrap_servers=config.bootstrap_servers.split(","),
            client_id=CLIENT_ID,
            request_timeout_ms=config.request_timeout_ms,
            bootstrap_timeout_ms=config.connect_timeout_ms,
        )
    except KafkaError as error:
        raise NotReady(_message(error)) from None


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partitions of those topics that exist (unknown topics are left out)."""
    try:
        described = admin.describe_topics(names)
    except KafkaError as error:
        raise _error("topics", f"cannot describe topics: {_message(error)}") from None
    counts = {}
    for topic in described:
        if topic["error_code"] == UNKNOWN_TOPIC:
            continue
        if topic["error_code"]:
            problem = f"describing it failed with Kafka error code {topic['error_code']}"
            raise _error(f"topic {topic['name']}", problem)
        counts[topic["name"]] = len(topic["partitions"])
    return counts


def _ensure_topic(
    admin: KafkaAdminClient,
    config: KafkaConfig,
    name: str,
    wanted: int,
    have: int | None,
    report: Report,
) -> None:
    item = f"topic {name}"
    if have is None:
        if _create(admin, config, name, wanted):
            report.item(SERVICE, item, CREATED, partitions(wanted))
            return
        have = _partition_counts(admin, [name]).get(name, wanted)
    if have < wanted:
        _grow(admin, name, wanted)
        detail = f"had {partitions(have)}, the spec asks {wanted}: grown"
        report.item(SERVICE, item, UPDATED, detail)
    elif have > wanted:
        detail = f"{partitions(have)}; the spec asks {wanted}, but partitions are never removed"
        report.item(SERVICE, item, PRESENT, detail)
    else:
        report.item(SERVICE, item, PRESENT, partitions(have))


def _create(admin: KafkaAdminClient, config: KafkaConfig, name: str, count: int) -> bool:
    """True if created; False if another client created it first."""
    try:
        return create_topic(admin, name, count, config.replication_factor)
    except InvalidReplicationFactorError as error:
        raise _error(
            f"topic {name}",
            f"replication factor {config.replication_factor} refused ({_message(error)})",
            "set KAFKA_REPLICATION_FACTOR to at most the number of brokers",
        ) from None
    except KafkaError as error:
        raise _error(f"topic {name}", f"cannot create it: {_message(error)}") from None


def _grow(admin: KafkaAdminClient, name: str, count: int) -> None:
    try:
        admin.create_partitions({name: count})
    except KafkaError as error:
        raise _error(
            f"topic {name}", f"cannot grow it to {count} partitions: {_message(error)}"
        ) from None


def _message(error: KafkaError) -> str:
    """The broker's own words when it gave some, not the whole request and response."""
    found = _BROKER_MESSAGE.search(str(error))
    return found.group(2) if found else str(error) or type(error).__name__


def _error(item: str, problem: str, fix: str = "") -> ProvisionError:
    return ProvisionError(
        SERVICE, item, problem, fix or "check the broker's log (docker compose logs kafka)"
    )
