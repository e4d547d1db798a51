"""python -m sparkjob (or spark-submit services/sparkjob/__main__.py): run the job."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from pyspark.sql.streaming import StreamingQuery

from streamlab.influx import read_token
from streamlab.settings import Settings, SettingsError
from streamlab.specs import SpecError, load_specs

from .config import JobConfig
from .job import start
from .session import build_session


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("py4j").setLevel(logging.WARNING)  # one INFO line per JVM call
    try:
        settings = Settings.load()
        config = JobConfig.from_settings(settings)
        specs = load_specs(config.datasets_dir, settings.values)
        token = read_token(config.token_file)
    except (SettingsError, SpecError, RuntimeError) as error:
        print(f"sparkjob: {error}", file=sys.stderr)
        return 2
    spark = build_session(config)
    context = spark.sparkContext
    print(f"sparkjob: Spark session ready on {context.master} ({context.applicationId})")
    queries = start(spark, specs, config, token)
    print(f"sparkjob: {len(queries)} queries running: {', '.join(q.name for q in queries)}")
    mark_ready(queries, settings.optional("SPARKJOB_READY_FILE"))
    spark.streams.awaitAnyTermination()
    return 1  # a query ended: that is a failure for a streaming job


def mark_ready(queries: list[StreamingQuery], ready_file: str | None) -> None:
    """Write ready_file once every query has started (the container's healthcheck adds that the
    application has an executor). Healthy means able to process: how far behind the queries
    are, after a restart with a backlog, is the lag the metrics collector reports."""
    if not ready_file:
        return
    if all(q.isActive for q in queries):
        Path(ready_file).write_text(f"{len(queries)} queries started\n")
        print(f"sparkjob: every query has started ({ready_file})")


if __name__ == "__main__":
    sys.exit(main())
