"""Every query's progress into the InfluxDB pipeline bucket, via a StreamingQueryListener."""

from __future__ import annotations

import logging
import time
from typing import Any

from pyspark.sql.streaming import StreamingQueryListener

from .influx import InfluxTarget, write_lines
from .lineprotocol import line

log = logging.getLogger(__name__)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN when a batch had no input


def progress_fields(progress: Any) -> dict[str, float | int]:
    """Input and processed rows/s, batch duration, rows, and Kafka offsets behind latest."""
    fields: dict[str, float | int] = {
        "batch_id": int(progress.batchId),
        "num_input_rows": int(progress.numInputRows),
        "batch_duration_ms": int(progress.batchDuration),
    }
    for name, value in (
        ("input_rows_per_s", progress.inputRowsPerSecond),
        ("processed_rows_per_s", progress.processedRowsPerSecond),
    ):
        if (number := _number(value)) is not None:
            fields[name] = number
    trigger_ms = (progress.durationMs or {}).get("triggerExecution")
    if trigger_ms is not None:
        fields["trigger_execution_ms"] = int(trigger_ms)
    for source in progress.sources or []:
        behind = _number((source.metrics or {}).get("maxOffsetsBehindLatest"))
        if behind is not None:
            fields["offsets_behind"] = behind
    return fields


class PipelineListener(StreamingQueryListener):
    def __init__(self, pipeline: InfluxTarget) -> None:
        self.pipeline = pipeline

    def onQueryStarted(self, event: Any) -> None:
        log.info("query %s started (id %s)", event.name, event.id)

    def onQueryProgress(self, event: Any) -> None:
        progress = event.progress
        name = progress.name or str(progress.id)
        dataset, _, query = name.partition(".")
        tags = {"query": name, "dataset": dataset, "kind": query}
        text = line("spark_query", tags, progress_fields(progress), time.time_ns())
        try:
            write_lines(self.pipeline, [text] if text else [])
        except Exception as error:  # metrics must never stop the job
            log.warning("could not write progress of %s to InfluxDB: %s", name, error)

    def onQueryIdle(self, event: Any) -> None:
        pass

    def onQueryTerminated(self, event: Any) -> None:
        if event.exception:
            log.error("query %s failed: %s", event.id, event.exception)
