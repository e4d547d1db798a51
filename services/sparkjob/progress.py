"""Every query's progress into the InfluxDB pipeline bucket, and its Kafka offsets to the
query's consumer group (the collector's lag), read by a thread every POLL_S.

A poller rather than a StreamingQueryListener: PySpark builds each listener event from the
JVM's object with some 25 py4j calls, and each Java map it turns into a dict ends in an
exception that PySpark checks against a dozen exception classes, each check a class
lookup that scans every jar. That was a quarter of the JVM's samples with one trickling
dataset (docs/decisions.md, "Where a micro-batch's time goes"); `lastProgress` is two
calls and a JSON text.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from pyspark.sql.streaming import StreamingQuery

from streamlab.influx import InfluxTarget, write_points

from .offsets import OffsetCommitter, kafka_offsets
from .series import query_point

log = logging.getLogger(__name__)

# The shipped trigger: a query's batches are seldom more than one apart; when they are,
# the latest batch's progress is written (the Pipeline dashboard shows the latest). Each
# poll costs two py4j calls per query, idle or not.
POLL_S = 2.0
# Whether every query has ended (the poller's own end) is asked every few polls only.
ENDED_EVERY = 10


class ProgressPoller(threading.Thread):
    def __init__(
        self,
        queries: Sequence[StreamingQuery],
        pipeline: InfluxTarget,
        committer: OffsetCommitter | None = None,
        interval_s: float = POLL_S,
    ) -> None:
        super().__init__(name="progress-poller", daemon=True)
        self.queries, self.pipeline, self.committer = queries, pipeline, committer
        self.interval_s = interval_s
        self._seen: dict[str, tuple[int, str]] = {}

    def run(self) -> None:
        """Polls until every query has ended, and once after."""
        for count in itertools.count(1):
            time.sleep(self.interval_s)
            queries = list(self.queries)
            ended = count % ENDED_EVERY == 0 and queries and not any(q.isActive for q in queries)
            self.poll()
            if ended:
                return

    def poll(self) -> None:
        for query in list(self.queries):
            try:
                self._poll_one(query)
            except Exception as error:  # progress reporting must never stop the job
                log.warning("could not read the progress of %s: %s", query.name, error)

    def _poll_one(self, query: StreamingQuery) -> None:
        progress = query.lastProgress
        if progress is None:
            return
        seen = (progress.batchId, progress.timestamp)
        if self._seen.get(progress.name) == seen:
            return
        self._seen[progress.name] = seen
        self._write(progress)
        # From the progress's JSON: its parsed sources keep endOffset as Python text.
        sources = json.loads(progress.json).get("sources") or []
        self._commit_offsets(progress.name, [source.get("endOffset") for source in sources])

    def _write(self, progress: Any) -> None:
        try:
            write_points(self.pipeline, [query_point(progress)])
        except Exception as error:  # metrics must never stop the job
            log.warning("could not write progress of %s to InfluxDB: %s", progress.name, error)

    def _commit_offsets(self, query: str, end_offsets: list[Any]) -> None:
        """The batch's end offsets to the query's consumer group (lag for the collector)."""
        if self.committer is None:
            return
        for end_offset in end_offsets:
            try:
                self.committer.commit(query, kafka_offsets(end_offset))
            except Exception as error:  # lag reporting must never stop the job
                log.warning("could not commit the Kafka offsets of %s: %s", query, error)
