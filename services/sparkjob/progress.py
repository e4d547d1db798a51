"""Every query's progress into the InfluxDB pipeline bucket, via a StreamingQueryListener."""

from __future__ import annotations

import logging
from typing import Any

from pyspark.sql.streaming import StreamingQueryListener

from streamlab.influx import InfluxTarget, write_points

from .offsets import OffsetCommitter, Offsets, kafka_offsets
from .routing import SHARED_SINKS, dataset_sinks_query
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
        """The batch's end offsets to the query's consumer group (lag for the collector); the
        shared sinks query's to each dataset's own <dataset>.sinks group."""
        if self.committer is None:
            return
        for source in sources:
            offsets = kafka_offsets(getattr(source, "endOffset", None))
            for owner, owned in _by_query(query, offsets).items():
                try:
                    self.committer.commit(owner, owned)
                except Exception as error:  # lag reporting must never stop the job
                    log.warning("could not commit the Kafka offsets of %s: %s", owner, error)

    def onQueryIdle(self, event: Any) -> None:
        pass

    def onQueryTerminated(self, event: Any) -> None:
        if event.exception:
            log.error("query %s failed: %s", event.id, event.exception)


def _by_query(query: str, offsets: Offsets) -> dict[str, Offsets]:
    """The offsets under the query that owns them: each raw topic's under its dataset's
    sinks query for the shared one, else all under `query`."""
    if query != SHARED_SINKS:
        return {query: offsets}
    owned: dict[str, Offsets] = {}
    for tp, offset in offsets.items():
        owned.setdefault(dataset_sinks_query(tp.topic), {})[tp] = offset
    return owned
