"""Every query's progress into the InfluxDB pipeline bucket, via a StreamingQueryListener."""

from __future__ import annotations

import json
import logging
import time
from types import SimpleNamespace
from typing import Any, ClassVar

from pyspark import SparkContext
from pyspark.sql.streaming import StreamingQueryListener

from .influx import InfluxTarget, write_lines
from .lineprotocol import line
from .offsets import OffsetCommitter, kafka_offsets

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


class _JsonEvents:
    """The Java side of PipelineListener. pyspark's own (JStreamingQueryListener) converts
    each progress with a JVM call per field and per map entry, some hundreds per event on
    the driver every trigger; here a progress crosses py4j as one JSON string."""

    def __init__(self, listener: PipelineListener) -> None:
        self.listener = listener

    def onQueryStarted(self, jevent: Any) -> None:
        event = SimpleNamespace(name=jevent.name(), id=jevent.id().toString())
        self.listener.onQueryStarted(event)

    def onQueryProgress(self, jevent: Any) -> None:
        progress = _progress(json.loads(jevent.progress().json()))
        self.listener.onQueryProgress(SimpleNamespace(progress=progress))

    def onQueryIdle(self, jevent: Any) -> None:
        pass

    def onQueryTerminated(self, jevent: Any) -> None:
        error = jevent.exception()  # a scala.Option
        event = SimpleNamespace(
            id=jevent.id().toString(), exception=error.get() if error.isDefined() else None
        )
        self.listener.onQueryTerminated(event)

    class Java:
        implements: ClassVar[list[str]] = [
            "org.apache.spark.sql.streaming.PythonStreamingQueryListener"
        ]


def _progress(data: dict[str, Any]) -> SimpleNamespace:
    """The fields PipelineListener reads, from a progress's JSON (Spark leaves out a rate
    that is not a number)."""
    sources = [
        SimpleNamespace(metrics=s.get("metrics") or {}, endOffset=s.get("endOffset"))
        for s in data.get("sources", [])
    ]
    return SimpleNamespace(
        id=data.get("id"), name=data.get("name"), batchId=data["batchId"],
        numInputRows=data.get("numInputRows", 0), batchDuration=data.get("batchDuration", 0),
        inputRowsPerSecond=data.get("inputRowsPerSecond"),
        processedRowsPerSecond=data.get("processedRowsPerSecond"),
        durationMs=data.get("durationMs") or {}, sources=sources,
    )  # fmt: skip


class PipelineListener(StreamingQueryListener):
    def __init__(self, pipeline: InfluxTarget, committer: OffsetCommitter | None = None) -> None:
        self.pipeline = pipeline
        self.committer = committer
        self._java: Any = None

    @property
    def _jlistener(self) -> Any:
        """What spark.streams.addListener registers (pyspark's hook): _JsonEvents."""
        if self._java is None:
            self._java = SparkContext._jvm.PythonStreamingQueryListenerWrapper(_JsonEvents(self))
        return self._java

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
        if progress.name:
            self._commit_offsets(progress.name, progress.sources or [])

    def _commit_offsets(self, query: str, sources: list[Any]) -> None:
        """The batch's end offsets to the query's consumer group (lag for the collector)."""
        if self.committer is None:
            return
        for source in sources:
            try:
                self.committer.commit(query, kafka_offsets(getattr(source, "endOffset", None)))
            except Exception as error:  # lag reporting must never stop the job
                log.warning("could not commit the Kafka offsets of %s: %s", query, error)

    def onQueryIdle(self, event: Any) -> None:
        pass

    def onQueryTerminated(self, event: Any) -> None:
        if event.exception:
            log.error("query %s failed: %s", event.id, event.exception)
