"""python -m sparkjob (or spark-submit services/sparkjob/__main__.py): run the job."""

from __future__ import annotations

import logging
import sys
import time
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
    queries = start(spark, specs, config, token)
    print(f"sparkjob: {len(queries)} queries running: {', '.join(q.name for q in queries)}")
    mark_ready_when_processing(queries, settings.optional("SPARKJOB_READY_FILE"))
    spark.streams.awaitAnyTermination()
    return 1  # a query ended: that is a failure for a streaming job


def mark_ready_when_processing(queries: list[StreamingQuery], ready_file: str | None) -> None:
    """Write ready_file once every query has reported progress (the container's healthcheck).

    A started query may still be waiting for its executors; "healthy" means processing.
    """
    if not ready_file:
        return
    while not all(q.lastProgress is not None for q in queries):
        if any(not q.isActive for q in queries):
            return  # awaitAnyTermination reports the failure
        time.sleep(1)
    Path(ready_file).write_text(f"{len(queries)} queries processing\n")
    print(f"sparkjob: every query has processed its first batch ({ready_file})")


if __name__ == "__main__":
    sys.exit(main())
