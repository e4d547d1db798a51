"""What the metrics collector and the streamer write to the InfluxDB pipeline bucket.

The one description of those measurements: the collector and the streamer write only these
names (their tests check what they really write against it), and the Pipeline dashboard's
Flux queries may name only these (tests/unit/test_dashboards.py reads the queries). The
Spark job's own measurements (spark_query, spark_sink) are checked against the job's code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    name: str
    source: str  # the `source` a collector cycle reads it from (source_status.source)
    tags: frozenset[str]
    fields: frozenset[str]


def _m(name: str, source: str, tags: str, fields: str) -> Measurement:
    return Measurement(name, source, frozenset(tags.split()), frozenset(fields.split()))


# Sources the collector polls; a source with no URL configured is not polled (lite: no
# yarn/hdfs; full: no spark_master).
SOURCES = ("streamer", "kafka", "yarn", "hdfs", "spark_master")

MEASUREMENTS: dict[str, Measurement] = {
    m.name: m
    for m in (
        # One point per source per cycle: up=1 with how long it took, or up=0 with the error.
        _m("source_status", "*", "source", "up response_ms error"),
        # Per stream, from the streamer's GET /streams.
        _m(
            "streamer_stream",
            "streamer",
            "stream",
            "asked_rows_per_s achieved_rows_per_s rows_sent rows_deadlettered rows_filtered state "
            "running",
        ),
        # Per topic, from the broker: the sum of the partitions' end offsets.
        _m("kafka_topic", "kafka", "topic dataset kind", "end_offset partitions"),
        # Per Spark query reading a raw topic: end offsets minus the offsets the query has
        # processed (the job commits them to the consumer group streamlab-spark.<query>, see
        # sparkjob/offsets.py; a query that has committed nothing yet has no point).
        _m("kafka_lag", "kafka", "topic dataset group", "lag committed_offset end_offset"),
        # ResourceManager REST /ws/v1/cluster/metrics.
        _m(
            "yarn_cluster",
            "yarn",
            "",
            "memory_used_mb memory_total_mb vcores_used vcores_total apps_running "
            "apps_pending nodes_active",
        ),
        # NameNode JMX (FSNamesystemState, NameNodeInfo).
        _m(
            "hdfs_cluster",
            "hdfs",
            "",
            "capacity_total_bytes capacity_used_bytes capacity_remaining_bytes "
            "live_datanodes dead_datanodes",
        ),
        # Spark standalone master's /json (lite profile).
        _m(
            "spark_standalone",
            "spark_master",
            "",
            "workers_alive cores_total cores_used memory_total_mb memory_used_mb apps_running",
        ),
        # Written by the streamer itself when a stream's rate changes (dashboard annotations).
        _m("streamer_event", "streamer", "stream event", "title text asked_rows_per_s"),
    )
}
