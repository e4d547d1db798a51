"""Every query's progress into the InfluxDB pipeline bucket, via a StreamingQueryListener."""

from __future__ import annotations

import logging
from typing import Any

from pyspark.sql.streaming import StreamingQueryListener

from streamlab.influx import InfluxTarget, write_points

from .offsets import OffsetCommitter, kafka_offsets
from .series import query_point

log = logging.getLogger(__name__)


class PipelineListener(StreamingQueryListener):
    def __init__(self, pipeline: InfluxTarget, committer: OffsetCommitter | None = None) -> None:
        self.pipeline = pipeline
        self.committer = committer

    def onQueryStarted(self, event: Any) -> None:
        log.info("query %s started (id %s)", event.name, event.id)

    def onQueryProgress(self, event: Any) -> None:
        progress = event.progress
        try:
            write_points(self.pipeline, [query_point(progress)])
        except Exception as error:  # metrics must never stop the job
            log.warning("could not write progress of %s to InfluxDB: %s", progress.name, error)
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
