"""Starts every dataset's queries and the thread that reports their progress."""

from __future__ import annotations

import logging
from dataclasses import replace

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from streamlab.influx import InfluxTarget, read_token, write_points
from streamlab.specs import DatasetSpec

from .config import JobConfig
from .expressions import ExpressionError
from .offsets import OffsetCommitter
from .progress import ProgressPoller
from .queries import DatasetPlan, plan_dataset, start_raw_layer, start_results
from .series import dataset_point
from .sinks import BatchContext

log = logging.getLogger(__name__)


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
    """Starts the queries of every selected dataset; returns them all. A dataset whose
    spec Spark refuses is left out, logged and reported in the pipeline bucket."""
    data, pipeline = influx_targets(config, token or read_token(config.token_file))
    queries: list[StreamingQuery] = []
    # Reads the list as it grows: the first queries report while the others start.
    ProgressPoller(queries, pipeline, OffsetCommitter(config.kafka_bootstrap)).start()
    plans: list[DatasetPlan] = []
    for name in start_order(specs):
        if not config.selects(name):
            continue
        try:
            plan = plan_dataset(spark, specs[name], config)
        except ExpressionError as error:
            log.error("dataset %s does not start: %s", name, error)
            _report(pipeline, dataset_point(name, 0, str(error)))
            continue
        ctx = BatchContext(plan.spec, data, pipeline, config.kafka_bootstrap)
        queries.extend(_started(start_results(plan, config, ctx)))
        plans.append(plan)
    # The raw layers after every dataset's results: their first batches would otherwise
    # take the executor's cores from the first points a new stack waits for
    # (docs/decisions.md, "Start-up"); Kafka keeps their rows meanwhile.
    for plan in plans:
        queries.extend(_started([start_raw_layer(plan, config)]))
        _report(pipeline, dataset_point(plan.spec.name, 2 + len(plan.aggregates)))
    return queries


def start_order(specs: dict[str, DatasetSpec]) -> list[str]:
    """Dataset names in the order their queries start: those that stream from the start
    first, as their first batches are what a new stack waits for (docs/decisions.md,
    "Start-up"), then by name."""
    return sorted(specs, key=lambda name: (not specs[name].autostart, name))


def _started(queries: list[StreamingQuery]) -> list[StreamingQuery]:
    for query in queries:
        log.info("query %s started (id %s)", query.name, query.id)
    return queries


def _report(pipeline: InfluxTarget, point) -> None:
    try:
        write_points(pipeline, [point])
    except Exception as error:  # reporting must never stop the job
        log.warning("could not write a dataset's state to InfluxDB: %s", error)
