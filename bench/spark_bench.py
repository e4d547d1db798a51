"""bench/run.sh spark: Spark to InfluxDB, batched against one request per row, and latency.

Real Kafka, HDFS and Spark (local mode, the test harness) and the InfluxDB double; in one run:
- points/s of the job's batched foreachBatch sink against the per-row ForeachWriter pattern
  (one client per partition, one synchronous HTTP write per row), both reading a pre-filled
  topic through Spark with trigger(availableNow);
- end-to-end latency from the streamer's send (sent_ms) to the point being stored in the
  double, p50/p95, with the streamer at 1000 rows/s and the job's default trigger.

Timing, the same for both sinks ("timing" in the JSON): the steady state, from the first
write the double stores to the last, points/s = (points - the first write's points) /
(last write's time - first write's time). Query start-up and the first micro-batch's
planning and parsing are outside the window; the later micro-batches (as large as the
job's SPARK_MAX_OFFSETS_PER_TRIGGER lets them be), their parsing and the gaps between them
are inside it. The batched sink reads three such micro-batches, the per-row one 10k (at its pace, 10 s or so); each first runs once on a
small topic, so neither is timed with a cold JIT or cold Python workers.
All runs share one SparkSession with the job's SQL settings (sparkjob.session) and the
JIT the job runs with (the test harness's C1-only setting shortens test start-up only).
The double is measured alone too ("double_alone": the same client code posting pre-built
lines, no Spark): its line parsing bounds the batched figure, its per-request cost the
per-row one, so their ratio bounds what any job can show against it on this machine.
The last line printed is one JSON object.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from influxdb_client import InfluxDBClient, WritePrecision  # noqa: E402
from influxdb_client.client.write_api import SYNCHRONOUS  # noqa: E402

from harness.hdfs import HdfsCluster  # noqa: E402
from harness.influx import InfluxLab, start_influx_lab  # noqa: E402
from harness.jars import resolve_jars  # noqa: E402
from harness.kafka import KafkaBroker, ZooKeeperServer  # noqa: E402
from harness.spark import spark_session  # noqa: E402
from harness.streamer import StreamerServer, create_topics, streamer_config, unique_spec  # noqa: E402
from sparkjob.config import JobConfig  # noqa: E402
from sparkjob.influx import InfluxTarget, LineWriter, chunks  # noqa: E402
from sparkjob.job import start  # noqa: E402
from sparkjob.lineprotocol import lines  # noqa: E402
from sparkjob.parsing import parse, valid_rows  # noqa: E402
from sparkjob.queries import kafka_stream  # noqa: E402
from sparkjob.session import JOB_SQL_CONF  # noqa: E402
from sparkjob.sinks import BatchContext, process_batch  # noqa: E402
from streamlab.settings import Settings  # noqa: E402
from streamlab.specs import RateSpec  # noqa: E402

# The job's own micro-batch bound. A micro-batch has a fixed cost (0.6-1 s seen on these
# 2 cores, for 5k rows as for 50k), so the bound decides how far that cost is spread.
SETTINGS = Settings.load()
JOB = JobConfig.from_settings(SETTINGS)
ROWS_PER_BATCH = JOB.max_offsets_per_trigger
BATCHED_ROWS = 3 * ROWS_PER_BATCH
PER_ROW_ROWS = 10_000
# Each sink first runs once on a small topic: JIT, generated code and Python workers warm.
WARMUP_ROWS = {"batched": 100_000, "per_row": 1_000}
TIMING = (
    "steady state: (points - first write's points) / (last write's time - first write's time), "
    "times when the double stored them"
)
# The job's session: its SQL settings, and its JVM's JIT (the harness's C1-only flag is
# for short test runs).
JOB_SESSION = {**JOB_SQL_CONF, "spark.driver.extraJavaOptions": "-XX:+TieredCompilation"}
# The double's own ceiling, no Spark: pre-built bodies posted through the job's LineWriter,
# and single lines through the per-row pattern's client.
CEILING_ROWS = {"batched": 100_000, "per_row": 2_000}
LATENCY_SECONDS = 30.0
LATENCY_RATE = 1000.0


def log(message: str) -> None:
    print(f"[bench spark] {message}", file=sys.stderr, flush=True)


class PointClock:
    """When each point of a measurement became readable in the double, by point time.

    The listener runs inside each write the double times, so it only keeps the write's
    keys; they are sorted into first-seen times when asked (count, stored, steady_rate).
    Used as a context manager, it stops listening at the end of its measurement.
    """

    def __init__(self, lab: InfluxLab, measurement: str) -> None:
        self.measurement = measurement
        self._listeners = lab.double.store.write_listeners
        self._stored: dict[tuple, int] = {}
        self._writes: list[tuple[int, int]] = []  # (stored ns, new points) per write
        self._pending: list[tuple[int, list[tuple]]] = []
        self._lock = threading.Lock()
        self._listeners.append(self._seen)

    def __enter__(self) -> PointClock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listeners.remove(self._seen)

    def _seen(self, bucket: str, keys: Iterable[tuple], stored_ns: int) -> None:
        listed = list(keys)
        with self._lock:
            self._pending.append((stored_ns, listed))

    def _fold(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for stored_ns, keys in pending:
            before = len(self._stored)
            for measurement, tags, time_ns in keys:
                if measurement == self.measurement:
                    self._stored.setdefault((tags, time_ns), stored_ns)
            if len(self._stored) > before:
                self._writes.append((stored_ns, len(self._stored) - before))

    @property
    def stored(self) -> dict[tuple, int]:
        self._fold()
        return self._stored

    @property
    def writes(self) -> list[tuple[int, int]]:
        self._fold()
        return self._writes

    def count(self) -> int:
        return len(self.stored)

    def steady_rate(self) -> float:
        """Points/s from the first write to the last, the first write's points left out."""
        writes = self.writes
        (first_ns, first_points), (last_ns, _) = writes[0], writes[-1]
        return (len(self._stored) - first_points) / ((last_ns - first_ns) / 1e9)


def fill_topic(broker: KafkaBroker, count: int) -> Any:
    """A sensors topic holding `count` rows sent by the real streamer at full speed."""
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", 100_000))
    create_topics(broker, spec)
    config = streamer_config(broker.bootstrap, autostart="none")
    with StreamerServer(config, {spec.name: spec}) as server:
        server.post(f"/streams/{spec.name}/resume")
        server.wait_for(spec.name, lambda s: s["rows_sent"] >= count, 300)
        server.post(f"/streams/{spec.name}/pause")
        sent = server.wait_for(spec.name, lambda s: s["rows_unacked"] == 0, 60)["rows_acked"]
    return spec, sent


def job_config(broker, hdfs, lab, tmp: Path, name: str, trigger: str) -> JobConfig:
    """The job's settings (settings.env), pointed at this run's services and folders."""
    return dataclasses.replace(
        JOB,
        datasets_dir=tmp, master="local[2]", kafka_bootstrap=broker.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/bench/{name}/raw",
        checkpoint_uri=f"{hdfs.uri}/bench/{name}/checkpoints",
        influx_url=lab.url, influx_org="streamlab", influx_bucket="streamlab",
        pipeline_bucket="pipeline", token_file=tmp / "unused", trigger_interval=trigger,
    )  # fmt: skip


def timed_query(spark, frame_writer, lab: InfluxLab, measurement: str, expected: int) -> float:
    with PointClock(lab, measurement) as clock:
        query = frame_writer.trigger(availableNow=True).start()
        query.awaitTermination()
    if clock.count() < expected:
        raise RuntimeError(f"{measurement}: {clock.count()} of {expected} points stored")
    log(f"{measurement}: {len(clock.writes)} writes")
    return clock.steady_rate()


def measure_batched(spark, spec, count, config: JobConfig, lab: InfluxLab) -> float:
    data = InfluxTarget(lab.url, "streamlab", "streamlab", lab.write_token)
    ctx = BatchContext(spec, data, InfluxTarget(lab.url, "streamlab", "pipeline", lab.write_token),
                       config.kafka_bootstrap)  # fmt: skip
    writer = (
        parse(kafka_stream(spark, spec, config), spec)
        .writeStream.foreachBatch(process_batch(ctx))
        .option("checkpointLocation", config.checkpoint(spec.name, "bench-batched"))
    )
    return timed_query(spark, writer, lab, spec.name, count)


class PerRowWriter:
    """The ForeachWriter pattern: one client per partition, one HTTP write per row."""

    def __init__(self, url: str, token: str, spec) -> None:
        self.url, self.token, self.spec = url, token, spec

    def open(self, partition_id: int, epoch_id: int) -> bool:
        self.client = InfluxDBClient(url=self.url, token=self.token, org="streamlab")
        self.api = self.client.write_api(write_options=SYNCHRONOUS)
        return True

    def process(self, row) -> None:
        text = lines(self.spec.name, [row.asDict()], self.spec.tags, self.spec.field_names)
        self.api.write("streamlab", "streamlab", text, WritePrecision.NS)

    def close(self, error) -> None:
        self.client.close()


def measure_per_row(spark, spec, count, config: JobConfig, lab: InfluxLab) -> float:
    frame = valid_rows(parse(kafka_stream(spark, spec, config), spec), spec)
    writer = frame.writeStream.foreach(PerRowWriter(lab.url, lab.write_token, spec)).option(
        "checkpointLocation", config.checkpoint(spec.name, "bench-per-row")
    )
    return timed_query(spark, writer, lab, spec.name, count)


def measure_latency(spark, broker, hdfs, lab: InfluxLab, tmp: Path) -> list[float]:
    """Seconds from each row's send to its point being stored, the job as it runs."""
    trigger = JOB.trigger_interval
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", LATENCY_RATE))
    create_topics(broker, spec)
    config = job_config(broker, hdfs, lab, tmp, spec.name, trigger)
    queries = start(spark, {spec.name: spec}, config, lab.write_token)
    time.sleep(15)  # let the queries reach their steady state before measuring
    with PointClock(lab, spec.name) as clock:
        with StreamerServer(streamer_config(broker.bootstrap), {spec.name: spec}) as server:
            server.manager.get(spec.name).resume()
            time.sleep(LATENCY_SECONDS)
            server.post(f"/streams/{spec.name}/pause")
            total = server.wait_for(spec.name, lambda s: s["rows_unacked"] == 0)["rows_acked"]
        deadline = time.monotonic() + 60
        while clock.count() < total and time.monotonic() < deadline:
            time.sleep(0.5)
    for query in queries:
        query.stop()
    log(f"latency run (trigger {trigger}): {clock.count()} of {total} points stored")
    # In send_time mode a point's time is its send time (us) * 1000 + seq % 1000.
    sent_ns = {key: (key[1] // 1000) * 1000 for key in clock.stored}
    return sorted((clock.stored[k] - sent_ns[k]) / 1e9 for k in clock.stored)


def run_sink(measure, rows: int, spark, broker, hdfs, lab: InfluxLab, tmp: Path) -> float:
    """A sink's steady-state points/s over a new topic of `rows` rows."""
    spec, sent = fill_topic(broker, rows)
    log(f"topic {spec.raw_topic} holds {sent} rows")
    config = job_config(broker, hdfs, lab, tmp, spec.name, "1 second")
    rate = measure(spark, spec, sent, config, lab)
    lab.double.reset(points_only=True)
    return rate


def sample_lines(spec, count: int, offset: int) -> list[str]:
    """Lines shaped as the job writes the spec's rows (its line protocol, its point times)."""
    rows = [
        {"sensor": f"s{i % 4 + 1}", "temperature": 21.0 + (i % 97) / 10, "humidity": 55.5,
         "status": "ok", "ts_us": 1_700_000_000_000_000 + offset + i, "seq": i}
        for i in range(count)
    ]  # fmt: skip
    return lines(spec.name, rows, spec.tags, spec.field_names)


def double_ceiling(lab: InfluxLab) -> dict[str, float]:
    """Points/s the double takes with no Spark in front: batched bodies, and one line per
    request; their ratio bounds the batched/per-row ratio any Spark job can show here."""
    spec = unique_spec("sensors")
    batched = sample_lines(spec, CEILING_ROWS["batched"], 0)
    target = InfluxTarget(lab.url, "streamlab", "streamlab", lab.write_token)
    with LineWriter(target) as writer:
        started = time.perf_counter()
        for chunk in chunks(batched, target.batch_lines):
            writer.write(chunk)
        batched_rate = len(batched) / (time.perf_counter() - started)
    single = sample_lines(spec, CEILING_ROWS["per_row"], 10**9)
    with InfluxDBClient(url=lab.url, token=lab.write_token, org="streamlab") as client:
        api = client.write_api(write_options=SYNCHRONOUS)
        started = time.perf_counter()
        for text in single:
            api.write("streamlab", "streamlab", text, WritePrecision.NS)
        per_row_rate = len(single) / (time.perf_counter() - started)
    lab.double.reset(points_only=True)
    return {"batched_points_per_s": round(batched_rate, 1),
            "per_row_points_per_s": round(per_row_rate, 1),
            "batched_vs_per_row": round(batched_rate / per_row_rate, 1)}  # fmt: skip


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    kafka_jars, hadoop_jars, spark_jars = (resolve_jars(i) for i in ("kafka", "hadoop", "spark"))
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp_name:
        tmp = Path(tmp_name)
        with (
            ZooKeeperServer(kafka_jars, tmp / "zk") as zk,
            KafkaBroker(kafka_jars, zk, tmp / "kafka") as broker,
            HdfsCluster(hadoop_jars, tmp / "hdfs") as hdfs,
        ):
            lab = start_influx_lab()
            spark = spark_session("bench-spark", spark_jars, hdfs.conf_dir, **JOB_SESSION)
            run = lambda measure, rows: run_sink(measure, rows, spark, broker, hdfs, lab, tmp)  # noqa: E731
            run(measure_batched, WARMUP_ROWS["batched"])
            run(measure_per_row, WARMUP_ROWS["per_row"])
            batched = run(measure_batched, BATCHED_ROWS)
            log(f"batched foreachBatch: {batched:.0f} points/s")
            per_row = run(measure_per_row, PER_ROW_ROWS)
            log(f"per-row ForeachWriter: {per_row:.0f} points/s")
            ceiling = double_ceiling(lab)
            log(f"the double alone, no Spark: {ceiling}")
            latencies = measure_latency(spark, broker, hdfs, lab, tmp)
            spark.stop()
            lab.double.stop()
    result = {
        "batched_points_per_s": round(batched, 1),
        "per_row_points_per_s": round(per_row, 1),
        "batched_vs_per_row": round(batched / per_row, 1),
        "double_alone": ceiling,
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(percentile(latencies, 0.95), 3),
        "latency_points": len(latencies),
        "latency_rate_rows_per_s": LATENCY_RATE,
        "latency_triggers": {
            "sinks": JOB.trigger_interval,
            "raw_layer": JOB.raw_layer_trigger_interval,
        },
        "batched_rows": BATCHED_ROWS,
        "per_row_rows": PER_ROW_ROWS,
        "rows_per_micro_batch": ROWS_PER_BATCH,
        "warmup_rows": WARMUP_ROWS,
        "timing": TIMING,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
