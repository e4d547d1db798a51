"""bench/run.sh spark: the Spark job to the real InfluxDB, against its ceiling and the
per-row pattern, and send-to-queryable latency.

Real Kafka, HDFS and Spark (local mode, the test harness) and a real influxd 2.7 (the
tests' binary), in one run:
- job_points_per_s: the job's `sinks` foreachBatch over a pre-filled sensors topic, read
  with trigger(availableNow), wall time from the query's start to its end (its first
  micro-batch's planning included), after a warm-up run on a smaller topic;
- cars_rows_per_s: the `cars` example's queries over a pre-filled cars topic of as many
  rows (CARS_ROWS), both with trigger(availableNow), the writeStream settings of the job's
  start_results: its `sinks` query (derive, three broadcast lookups; points, bad_driving
  alerts as points and to Kafka, every enriched row to Kafka) and its aggregation
  `alert_counts` (alerts per colour and 15-minute window, to InfluxDB and Kafka); wall
  time from the first query's start to both ending, after a warm-up run. Rows in the
  topic / that time, next to the plain job's figure on the same row count;
- client_alone_points_per_s: influxdb-client alone, no Spark, writing the same number of
  points of the same shape from a DataFrame through streamlab.influx (the ceiling);
- per_row_points_per_s: the per-row ForeachWriter pattern (one client per partition, one
  synchronous write per row) over its own topic;
- latency_p50_s / latency_p95_s: from each row's send by the streamer at 1000 rows/s to
  its point being returned by a Flux query (polled every LATENCY_POLL_S: the resolution).
The last line printed is one JSON object.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import pandas as pd  # noqa: E402
from influxdb_client import InfluxDBClient  # noqa: E402
from influxdb_client.client.write_api import SYNCHRONOUS  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402
from pyspark.sql.streaming import StreamingQuery  # noqa: E402
from queryable import QueryableClock, percentile  # noqa: E402

from harness.hdfs import HdfsCluster  # noqa: E402
from harness.influx import InfluxLab, InfluxServer, read_annotated_csv, set_up_lab  # noqa: E402
from harness.jars import resolve_jars  # noqa: E402
from harness.kafka import KafkaBroker, ZooKeeperServer  # noqa: E402
from harness.spark import spark_session  # noqa: E402
from harness.streamer import StreamerServer, create_topics, streamer_config, unique_spec  # noqa: E402
from sparkjob.config import JobConfig  # noqa: E402
from sparkjob.job import start  # noqa: E402
from sparkjob.queries import kafka_stream, plan_dataset  # noqa: E402
from sparkjob.series import alert_series, data_series  # noqa: E402
from sparkjob.sinks import BatchContext, process_aggregates, process_batch  # noqa: E402
from streamlab.influx import TIME_COLUMN, InfluxTarget, InfluxWriter, point, point_time_ns  # noqa: E402
from streamlab.settings import Settings  # noqa: E402
from streamlab.spark.conf import JOB_SQL_CONF  # noqa: E402
from streamlab.spark.parsing import parse, valid_rows  # noqa: E402
from streamlab.specs import RateSpec  # noqa: E402

SETTINGS = Settings.load()
JOB = JobConfig.from_settings(SETTINGS)
ROWS_PER_BATCH = JOB.max_offsets_per_trigger
JOB_ROWS = 3 * ROWS_PER_BATCH
CARS_ROWS = JOB_ROWS  # the plain job is measured again on this count if it differs
PER_ROW_ROWS = 10_000
WARMUP_ROWS = {"job": 100_000, "per_row": 1_000, "cars": 50_000}
# The job's session: its SQL settings and shuffle partitions (the state of the cars
# aggregation), and its JVM's JIT (the harness's C1-only flag is for short test runs).
JOB_SESSION = {
    **JOB_SQL_CONF,
    "spark.sql.shuffle.partitions": str(JOB.shuffle_partitions),
    "spark.driver.extraJavaOptions": "-XX:+TieredCompilation",
}
LATENCY_SECONDS = 30.0
LATENCY_RATE = 1000.0
LATENCY_POLL_S = 0.25


def log(message: str) -> None:
    print(f"[bench spark] {message}", file=sys.stderr, flush=True)


def fill_topic(broker: KafkaBroker, count: int, dataset: str = "sensors") -> Any:
    """A dataset's raw topic holding `count` rows sent by the real streamer at full speed;
    all the dataset's topics are created first."""
    spec = unique_spec(dataset, rate=RateSpec("rows_per_second", 100_000))
    create_topics(broker, spec)
    config = streamer_config(broker.bootstrap, autostart="none")
    with StreamerServer(config, {spec.name: spec}) as server:
        server.post(f"/streams/{spec.name}/resume")
        server.wait_for(spec.name, lambda s: s["rows_sent"] >= count, 300)
        server.post(f"/streams/{spec.name}/pause")
        sent = server.wait_for(spec.name, lambda s: s["rows_unacked"] == 0, 60)["rows_acked"]
    return spec, sent


def job_config(broker, hdfs, lab: InfluxLab, tmp: Path, name: str, trigger: str) -> JobConfig:
    """The job's settings (settings.env), pointed at this run's services and folders."""
    return dataclasses.replace(
        JOB,
        datasets_dir=tmp, master="local[2]", kafka_bootstrap=broker.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/bench/{name}/raw",
        checkpoint_uri=f"{hdfs.uri}/bench/{name}/checkpoints",
        influx_url=lab.url, influx_org="streamlab", influx_bucket="streamlab",
        pipeline_bucket="pipeline", token_file=tmp / "unused", trigger_interval=trigger,
    )  # fmt: skip


def target(lab: InfluxLab, bucket: str = "streamlab") -> InfluxTarget:
    return InfluxTarget(lab.url, "streamlab", bucket, lab.write_token, JOB.influx_batch_size)


def stream(frame, config: JobConfig, spec, query: str):
    """A query's writer as start_results makes it (sparkjob.queries._stream): its name and
    checkpoint; the trigger is the caller's."""
    return frame.writeStream.queryName(f"{spec.name}.{query}").option(
        "checkpointLocation", config.checkpoint(spec.name, query)
    )


def timed_queries(stream_writers: list) -> tuple[float, list[StreamingQuery]]:
    """Wall seconds from the first availableNow query's start to the last one's end."""
    started = time.perf_counter()
    queries = [w.trigger(availableNow=True).start() for w in stream_writers]
    for query in queries:
        query.awaitTermination()
    return time.perf_counter() - started, queries


def timed_query(stream_writer, lab: InfluxLab, measurement: str, expected: int) -> float:
    """Points/s of an availableNow query, wall time; checks every point is queryable."""
    seconds, _ = timed_queries([stream_writer])
    check_stored(lab, measurement, "temperature", expected)
    return expected / seconds


def flux_total(lab: InfluxLab, measurement: str, field: str, fn: str = "count") -> int:
    """count() (or sum()) of a field over every point of a measurement, by Flux."""
    flux = (
        'from(bucket: "streamlab") |> range(start: 0)'
        f' |> filter(fn: (r) => r._measurement == "{measurement}" and r._field == "{field}")'
        f" |> group() |> {fn}()"
    )
    rows = read_annotated_csv(lab.query_csv(flux))
    return int(float(rows[0]["_value"])) if rows else 0


def check_stored(lab: InfluxLab, measurement: str, field: str, expected: int) -> None:
    stored = flux_total(lab, measurement, field)
    if stored < expected:
        raise RuntimeError(f"{measurement}: {stored} of {expected} points stored")


def measure_job(spark, spec, count, config: JobConfig, lab: InfluxLab) -> float:
    """The sinks query as start_results makes it: the dataset's enriched frame (for sensors,
    no derive or lookups: its rows parsed, with the keep flags process_batch reads)."""
    ctx = BatchContext(spec, target(lab), target(lab, "pipeline"), config.kafka_bootstrap)
    enriched = plan_dataset(spark, spec, config).enriched
    writer = stream(enriched, config, spec, "sinks").foreachBatch(process_batch(ctx))
    return timed_query(writer, lab, spec.name, count)


class PerRowWriter:
    """The ForeachWriter pattern: one client per partition, one HTTP write per row."""

    def __init__(self, url: str, token: str, spec) -> None:
        self.url, self.token, self.spec = url, token, spec

    def open(self, partition_id: int, epoch_id: int) -> bool:
        self.client = InfluxDBClient(url=self.url, token=self.token, org="streamlab")
        self.api = self.client.write_api(write_options=SYNCHRONOUS)
        return True

    def process(self, row) -> None:
        tags = {t: row[t] for t in self.spec.tags}
        fields = {f: row[f] for f in self.spec.field_names}
        when = point_time_ns(row["ts_us"], row["seq"])
        self.api.write("streamlab", "streamlab", point(self.spec.name, tags, fields, when))

    def close(self, error) -> None:
        self.client.close()


def measure_per_row(spark, spec, count, config: JobConfig, lab: InfluxLab) -> float:
    frame = valid_rows(parse(kafka_stream(spark, spec, config), spec), spec)
    writer = frame.writeStream.foreach(PerRowWriter(lab.url, lab.write_token, spec)).option(
        "checkpointLocation", config.checkpoint(spec.name, "bench-per-row")
    )
    return timed_query(writer, lab, spec.name, count)


def run_sink(measure, rows: int, spark, broker, hdfs, lab: InfluxLab, tmp: Path) -> float:
    """A sink's points/s over a new topic of `rows` rows."""
    spec, sent = fill_topic(broker, rows)
    log(f"topic {spec.raw_topic} holds {sent} rows")
    config = job_config(broker, hdfs, lab, tmp, spec.name, "1 second")
    return measure(spark, spec, sent, config, lab)


def topic_sizes(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Records in each topic (the sum of its partitions' end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        sizes = {}
        for topic in topics:
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            sizes[topic] = sum(consumer.end_offsets(parts).values())
        return sizes
    finally:
        consumer.close()


def log_progress(query: StreamingQuery) -> None:
    """Each micro-batch's rows and durationMs (the phases Spark times), to see where the
    wall time goes."""
    for p in query.recentProgress:
        phases = ", ".join(f"{k} {v}" for k, v in sorted((p.durationMs or {}).items()))
        log(f"  {p.name} batch {p.batchId}: {p.numInputRows} rows; ms: {phases}")


def measure_cars(rows: int, spark, broker, hdfs, lab: InfluxLab, tmp: Path) -> tuple[float, dict]:
    """Rows/s of the cars example's sinks and alert_counts queries over a new topic of
    `rows` rows, and what they wrote."""
    spec, sent = fill_topic(broker, rows, "cars")
    log(f"topic {spec.raw_topic} holds {sent} rows")
    config = job_config(broker, hdfs, lab, tmp, spec.name, "1 second")
    plan = plan_dataset(spark, spec, config)
    ctx = BatchContext(spec, target(lab), target(lab, "pipeline"), config.kafka_bootstrap)
    writers = [stream(plan.enriched, config, spec, "sinks").foreachBatch(process_batch(ctx))]
    for index, (agg, groups) in enumerate(zip(spec.aggregations, plan.aggregates, strict=True)):
        writers.append(
            stream(groups, config, spec, agg.name)
            .outputMode("update")
            .foreachBatch(process_aggregates(ctx, index))
        )
    seconds, queries = timed_queries(writers)
    for query in queries:
        log_progress(query)
    check_stored(lab, spec.name, "speed", sent)
    alerts = flux_total(lab, alert_series(spec).measurement, "fired")
    counted = flux_total(lab, f"{spec.name}_agg", "alerts", "sum")
    topics = topic_sizes(broker.bootstrap, [t for t, kind in spec.topics if kind != "raw"])
    log(f"cars: {sent} rows in {seconds:.1f} s; {alerts} alert points, counted {counted}; {topics}")
    if counted != alerts or topics[spec.enriched_topic] < sent:
        log("warning: the alert counts or the enriched topic do not match the rows")
    return sent / seconds, {"rows": sent, "alerts": alerts, "alerts_counted": counted}


def client_alone(lab: InfluxLab, count: int) -> float:
    """Points/s of influxdb-client alone, no Spark: the job's row shape from a DataFrame,
    batch_size points a request, through the same write path."""
    spec = unique_spec("sensors")
    start_ns = time.time_ns() - 3600 * 10**9
    frame = pd.DataFrame(
        {
            "sensor": [f"s{i % 4 + 1}" for i in range(count)],
            "temperature": [21.0 + (i % 97) / 10 for i in range(count)],
            "humidity": 55.5,
            "status": "ok",
            TIME_COLUMN: [start_ns + i * 1000 for i in range(count)],
        }
    )
    series = data_series(spec)
    with InfluxWriter(target(lab)) as writer:
        started = time.perf_counter()
        writer.write_frame(frame, series.measurement, series.tags, TIME_COLUMN)
        return count / (time.perf_counter() - started)


def measure_latency(spark, broker, hdfs, lab: InfluxLab, tmp: Path) -> list[float]:
    """Seconds from each row's send to its point being returned by Flux, the job as it runs."""
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", LATENCY_RATE))
    create_topics(broker, spec)
    config = job_config(broker, hdfs, lab, tmp, spec.name, JOB.trigger_interval)
    queries = start(spark, {spec.name: spec}, config, lab.write_token)
    time.sleep(15)  # let the queries reach their steady state before measuring
    clock = QueryableClock(lab.query_csv, "streamlab", spec.name, "temperature", "sensor")
    with StreamerServer(streamer_config(broker.bootstrap), {spec.name: spec}) as server:
        server.manager.get(spec.name).resume()
        clock.poll_for(LATENCY_SECONDS, LATENCY_POLL_S)
        server.post(f"/streams/{spec.name}/pause")
        total = server.wait_for(spec.name, lambda s: s["rows_unacked"] == 0)["rows_acked"]
    deadline = time.monotonic() + 60
    while len(clock.seen) < total and time.monotonic() < deadline:
        clock.poll_for(1, LATENCY_POLL_S)
    for query in queries:
        query.stop()
    log(f"latency run (trigger {JOB.trigger_interval}): {len(clock.seen)} of {total} queryable")
    return clock.latencies_s()


def main() -> int:
    kafka_jars, hadoop_jars, spark_jars = (resolve_jars(i) for i in ("kafka", "hadoop", "spark"))
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp_name:
        tmp = Path(tmp_name)
        with (
            ZooKeeperServer(kafka_jars, tmp / "zk") as zk,
            KafkaBroker(kafka_jars, zk, tmp / "kafka") as broker,
            HdfsCluster(hadoop_jars, tmp / "hdfs") as hdfs,
            InfluxServer(tmp / "influxd") as influxd,
        ):
            lab = set_up_lab(influxd)
            log(f"InfluxDB {influxd.version()} at {lab.url}")
            spark = spark_session("bench-spark", spark_jars, hdfs.conf_dir, **JOB_SESSION)
            run = lambda measure, rows: run_sink(measure, rows, spark, broker, hdfs, lab, tmp)  # noqa: E731
            run(measure_job, WARMUP_ROWS["job"])
            run(measure_per_row, WARMUP_ROWS["per_row"])
            job = run(measure_job, JOB_ROWS)
            log(f"the job's sinks query: {job:.0f} points/s")
            measure_cars(WARMUP_ROWS["cars"], spark, broker, hdfs, lab, tmp)
            cars, cars_written = measure_cars(CARS_ROWS, spark, broker, hdfs, lab, tmp)
            log(f"cars' sinks and alert_counts queries: {cars:.0f} rows/s")
            job_same = job if CARS_ROWS == JOB_ROWS else run(measure_job, CARS_ROWS)
            per_row = run(measure_per_row, PER_ROW_ROWS)
            log(f"per-row ForeachWriter: {per_row:.0f} points/s")
            alone = client_alone(lab, JOB_ROWS)
            log(f"influxdb-client alone, no Spark: {alone:.0f} points/s")
            latencies = measure_latency(spark, broker, hdfs, lab, tmp)
            spark.stop()
    latency_p50, latency_p95 = statistics.median(latencies), percentile(latencies, 0.95)
    table = [
        (f"the job's sinks query, sensors ({JOB_ROWS:,} rows)", f"{job:,.0f} points/s"),
        (
            f"cars: sinks + alert_counts ({cars_written['rows']:,} rows)",
            f"{cars:,.0f} rows/s (plain job on {CARS_ROWS:,} rows: {job_same:,.0f}; "
            f"cars {cars / job_same:.2f} of it)",
        ),
        ("influxdb-client alone", f"{alone:,.0f} points/s (the job: {job / alone:.2f} of it)"),
        ("per-row ForeachWriter", f"{per_row:,.0f} points/s (the job: {job / per_row:.1f}x)"),
        ("send to queryable, p50 / p95", f"{latency_p50:.2f} s / {latency_p95:.2f} s"),
    ]
    width = max(len(name) for name, _ in table)
    for name, value in table:
        log(f"{name:<{width}}  {value}")
    result = {
        "influxdb": "influxd v2.7 (real server)",
        "job_points_per_s": round(job, 1),
        "cars_rows_per_s": round(cars, 1),
        "cars_vs_job": round(cars / job_same, 3),
        "client_alone_points_per_s": round(alone, 1),
        "per_row_points_per_s": round(per_row, 1),
        "job_vs_per_row": round(job / per_row, 1),
        "job_vs_client_alone": round(job / alone, 3),
        "latency_p50_s": round(latency_p50, 3),
        "latency_p95_s": round(latency_p95, 3),
        "latency_points": len(latencies),
        "latency_rate_rows_per_s": LATENCY_RATE,
        "latency_poll_s": LATENCY_POLL_S,
        "latency_triggers": {
            "sinks": JOB.trigger_interval,
            "raw_layer": JOB.raw_layer_trigger_interval,
        },
        "job_rows": JOB_ROWS,
        "cars_rows": cars_written["rows"],
        "job_points_per_s_at_cars_rows": round(job_same, 1),
        "cars_alerts": cars_written["alerts"],
        "cars_alerts_counted": cars_written["alerts_counted"],
        "per_row_rows": PER_ROW_ROWS,
        "rows_per_micro_batch": ROWS_PER_BATCH,
        "warmup_rows": WARMUP_ROWS,
        "timing": "wall time of each availableNow query, start-up included",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
