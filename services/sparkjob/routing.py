"""One `sinks` query over every dataset's raw topic, routed by topic inside each micro-batch.

A query per dataset planned and scheduled its own micro-batch every trigger, so the job's
cost grew with the number of datasets that had a few new rows (docs/decisions.md, "What a
dataset costs the job"). The shared query reads the raw topics of every dataset that
started (`subscribePattern`, anchored: result topics never match; a topic of no started
dataset is not read, so none of its rows is skipped), keeps the batch once, finds the
datasets present with one small job, and runs each present dataset's sinks on its rows,
filtered by topic before parsing. The raw layer and the aggregations keep a query per
dataset (typed file sinks with their own logs; one watermark per aggregation).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from kafka import KafkaAdminClient
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from streamlab.influx import InfluxTarget, write_points
from streamlab.kafka_admin import query_group
from streamlab.kafka_offsets import committed_offsets, existing_partitions
from streamlab.specs import DatasetSpec

from .series import routed_point
from .sinks import BATCH_CACHE, BatchContext, process_batch

log = logging.getLogger(__name__)

SHARED_SINKS = "_datasets.sinks"  # no dataset name starts with "_"
EARLIEST = -2  # Spark's Kafka source: a partition read from its first offset


@dataclass(frozen=True)
class Route:
    """A dataset's sinks: its batch rows (Kafka columns) to enriched rows, and where they go."""

    ctx: BatchContext
    enrich: Callable[[DataFrame], DataFrame]


def topic_pattern(specs: Iterable[DatasetSpec]) -> str:
    """The raw topics of these datasets, and nothing else."""
    names = "|".join(re.escape(spec.raw_topic) for spec in sorted(specs, key=lambda s: s.name))
    return f"^(?:{names})$"


def dataset_sinks_query(raw_topic: str) -> str:
    """The per-dataset query the shared query reports a raw topic under, and whose consumer
    group holds that topic's processed offsets (as when each dataset had its own query)."""
    return f"{raw_topic.removesuffix('.raw')}.sinks"


def starting_offsets(admin: KafkaAdminClient, specs: Iterable[DatasetSpec], default: str) -> str:
    """Where a new shared query starts: for each partition, the offset the dataset's former
    `<dataset>.sinks` query committed (a stack made before the shared query), else its
    first offset; `default` when no topic exists yet. Spark reads it only when the query
    has no checkpoint."""
    specs = list(specs)
    partitions = existing_partitions(admin, [s.raw_topic for s in specs])
    if not partitions:
        return default
    committed = committed_offsets(admin, specs, dict.fromkeys(partitions, 0))
    offsets: dict[str, dict[str, int]] = {}
    for tp in partitions:
        done = committed.get(query_group(dataset_sinks_query(tp.topic)), {})
        offset = done.get(tp, -1)
        offsets.setdefault(tp.topic, {})[str(tp.partition)] = offset if offset >= 0 else EARLIEST
    return json.dumps(offsets)


def route_batches(
    routes: Mapping[str, Route], pipeline: InfluxTarget
) -> Callable[[DataFrame, int], None]:
    """The shared query's foreachBatch: each dataset present runs its sinks on its rows."""

    last_batch = [time.monotonic()]

    def run(batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        since_last, last_batch[0] = started - last_batch[0], started
        cached = batch.persist(BATCH_CACHE)
        try:
            present = {r["topic"]: r["rows"] for r in _rows_per_topic(cached)}
            for topic, rows in sorted(present.items()):
                route = routes[topic]
                began = time.monotonic()
                process_batch(route.ctx)(
                    route.enrich(cached.where(F.col("topic") == topic)), batch_id
                )
                progress = routed_point(
                    dataset_sinks_query(topic), batch_id, rows, time.monotonic() - began, since_last
                )
                _report(pipeline, progress)
        finally:
            cached.unpersist()

    return run


def _report(pipeline: InfluxTarget, progress) -> None:
    try:
        write_points(pipeline, [progress])
    except Exception as error:  # metrics must never stop the job
        log.warning("could not write a dataset's sinks progress to InfluxDB: %s", error)


def _rows_per_topic(batch: DataFrame) -> list:
    return batch.groupBy("topic").agg(F.count(F.lit(1)).alias("rows")).collect()
