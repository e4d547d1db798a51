"""bench/run.sh datasets: what a dataset costs the Spark job, idle and trickling.

Real Kafka, HDFS and Spark (local mode, the test harness) and a real influxd 2.7, in one run:
the job's `start()` (sparkjob.job) over FEW and then MANY datasets (copies of the sensors
spec under their own names), at the shipped triggers (settings.env), each first idle (topics
created, no row sent) and then trickling (the real streamer, in a process of its own, sends
TRICKLE_ROWS_PER_S rows/s to each). For each, after SETTLE_S to let every query start, over
MEASURE_S:
- the Spark JVM's CPU (local mode: driver and executor in one process) with its Python
  workers', from /proc, and the workers' part of it;
- this Python process's CPU (foreachBatch's py4j callbacks, the progress poller);
- the streaming queries running and the micro-batches they ran;
- where a micro-batch's time goes: Spark's own durationMs (latestOffset, getBatch,
  queryPlanning, addBatch, walCommit, commitOffsets, triggerExecution) averaged over the
  batches with rows, per kind of query (sinks, raw_layer).
The figures of interest are the CPU per added dataset, idle and trickling: the job's cost
follows the number of datasets where they are well above zero. The last line printed is one
JSON object.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from kafka import KafkaConsumer, TopicPartition  # noqa: E402

from harness.hdfs import HdfsCluster  # noqa: E402
from harness.influx import InfluxServer, set_up_lab  # noqa: E402
from harness.jars import resolve_jars  # noqa: E402
from harness.kafka import KafkaBroker, ZooKeeperServer  # noqa: E402
from harness.spark import spark_session  # noqa: E402
from harness.streamer import StreamerServer, create_topics, streamer_config, unique_spec  # noqa: E402
from sparkjob.config import JobConfig  # noqa: E402
from sparkjob.job import start  # noqa: E402
from streamlab.settings import Settings  # noqa: E402
from streamlab.spark.conf import JOB_SQL_CONF  # noqa: E402
from streamlab.specs import RateSpec  # noqa: E402

JOB = JobConfig.from_settings(Settings.load())
FEW, MANY = 1, 10
TRICKLE_ROWS_PER_S = 5.0
SETTLE_S = 30.0
MEASURE_S = 60.0
TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench datasets] {message}", file=sys.stderr, flush=True)


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (field 3 on)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _processes() -> dict[int, int]:
    """Every process's parent."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def spark_jvm_pids() -> list[int]:
    """The local-mode Spark JVMs this process started (spark-submit's SparkSubmit)."""
    pids = []
    for pid, parent in _processes().items():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"org.apache.spark.deploy.SparkSubmit" in cmdline and parent == os.getpid():
            pids.append(pid)
    return pids


def cpu_seconds(root: int) -> tuple[float, float]:
    """CPU seconds of a process, and of its descendants (PySpark's Python workers) with
    what they reaped: utime + stime (+ cutime + cstime)."""
    parents, own, descendants = _processes(), 0.0, 0.0
    for pid in parents:
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor != root:
            continue
        try:
            fields = _stat(pid)
        except OSError:
            continue
        if pid == root:
            own += (int(fields[11]) + int(fields[12])) / TICKS
        else:
            descendants += sum(int(f) for f in fields[11:15]) / TICKS
    return own, descendants


def sensors(name: str | None = None):
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", TRICKLE_ROWS_PER_S))
    return dataclasses.replace(spec, name=name) if name else spec


def feed(bootstrap: str, names: list[str]) -> int:
    """--feed: the real streamer sending to each dataset's raw topic until it is killed."""
    specs = {name: sensors(name) for name in names}
    config = streamer_config(bootstrap, autostart=",".join(names))
    with StreamerServer(config, specs):
        time.sleep(3600)
    return 0


def feeder(broker, specs: dict) -> subprocess.Popen:
    command = [sys.executable, __file__, "--feed", broker.bootstrap, *specs]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def raw_rows(broker, specs) -> int:
    """Rows in the datasets' raw topics: 0 when idle, and what the streamer sent."""
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        partitions = [
            TopicPartition(spec.raw_topic, p)
            for spec in specs
            for p in consumer.partitions_for_topic(spec.raw_topic) or ()
        ]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def batch_durations(queries, since_ms: float) -> dict[str, dict[str, float]]:
    """Mean durationMs of the batches with rows that began after `since_ms`, per kind of
    query (the part of the name after the dataset), and how many batches that is."""
    by_kind: dict[str, list[dict]] = {}
    for query in queries:
        kind = (query.name or "").rsplit(".", 1)[-1]
        for progress in query.recentProgress:
            began = datetime.fromisoformat(progress.timestamp.replace("Z", "+00:00"))
            if progress.numInputRows > 0 and began.timestamp() * 1000 >= since_ms:
                by_kind.setdefault(kind, []).append(dict(progress.durationMs))
    result = {}
    for kind, batches in sorted(by_kind.items()):
        keys = sorted({key for batch in batches for key in batch})
        means = {k: round(statistics.mean(b.get(k, 0) for b in batches), 1) for k in keys}
        result[kind] = {"batches": len(batches), **means}
    return result


def _cpu(pids: list[int]) -> tuple[float, float]:
    """CPU seconds of the JVMs themselves, and of their Python workers."""
    pairs = [cpu_seconds(p) for p in pids]
    return sum(own for own, _ in pairs), sum(workers for _, workers in pairs)


def measure(spark, count: int, trickle: bool, broker, hdfs, lab, tmp: Path) -> dict[str, float]:
    specs = {}
    for _ in range(count):
        spec = sensors()
        create_topics(broker, spec)
        specs[spec.name] = spec
    mode = "trickling" if trickle else "idle"
    config = dataclasses.replace(
        JOB, datasets_dir=tmp, master="local[2]", kafka_bootstrap=broker.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/bench-datasets/{mode}-{count}/raw",
        checkpoint_uri=f"{hdfs.uri}/bench-datasets/{mode}-{count}/checkpoints",
        influx_url=lab.url, influx_org="streamlab", influx_bucket="streamlab",
        pipeline_bucket="pipeline", token_file=tmp / "unused",
    )  # fmt: skip
    queries = start(spark, specs, config, lab.write_token)
    fed = feeder(broker, specs) if trickle else None
    try:
        time.sleep(SETTLE_S)
        jvm = spark_jvm_pids()
        if not jvm:
            raise RuntimeError("no SparkSubmit JVM among this process's children: cannot measure")
        batches = lambda: sum(len(q.recentProgress) for q in queries)  # noqa: E731
        window_start_ms = time.time() * 1000
        jvm_before, py_before, batches_before = _cpu(jvm), time.process_time(), batches()
        time.sleep(MEASURE_S)
        jvm_cpu, workers_cpu = (
            after - before for after, before in zip(_cpu(jvm), jvm_before, strict=True)
        )
        py_cpu = time.process_time() - py_before
        progress = batches() - batches_before
        durations = batch_durations(queries, window_start_ms)
        rows = raw_rows(broker, specs.values())
    finally:
        if fed is not None:
            fed.kill()
            fed.wait()
        for query in queries:
            query.stop()
    result = {
        "mode": mode,
        "datasets": count,
        "queries": len(queries),
        "spark_jvm_cpu_pct_of_a_core": round(100 * (jvm_cpu + workers_cpu) / MEASURE_S, 1),
        "of_it_python_workers_pct": round(100 * workers_cpu / MEASURE_S, 1),
        "python_driver_cpu_pct_of_a_core": round(100 * py_cpu / MEASURE_S, 1),
        "progress_events": progress,
        "rows_in_raw_topics": rows,
        "batch_duration_ms": durations,
    }
    log(f"{count} {mode} datasets: {result}")
    return result


def main() -> int:
    kafka_jars, hadoop_jars, spark_jars = (resolve_jars(i) for i in ("kafka", "hadoop", "spark"))
    with tempfile.TemporaryDirectory(prefix="bench-datasets-") as tmp_name:
        tmp = Path(tmp_name)
        with (
            ZooKeeperServer(kafka_jars, tmp / "zk") as zk,
            KafkaBroker(kafka_jars, zk, tmp / "kafka") as broker,
            HdfsCluster(hadoop_jars, tmp / "hdfs") as hdfs,
            InfluxServer(tmp / "influxd") as influxd,
        ):
            lab = set_up_lab(influxd)
            session = {
                **JOB_SQL_CONF, "spark.sql.shuffle.partitions": str(JOB.shuffle_partitions)
            }  # fmt: skip
            spark = spark_session("bench-datasets", spark_jars, hdfs.conf_dir, **session)
            runs = {
                (trickle, count): measure(spark, count, trickle, broker, hdfs, lab, tmp)
                for trickle in (False, True)
                for count in (FEW, MANY)
            }
            spark.stop()
    result: dict = {
        "triggers": {"sinks": JOB.trigger_interval, "raw_layer": JOB.raw_layer_trigger_interval},
        "trickle_rows_per_s_per_dataset": TRICKLE_ROWS_PER_S,
        "runs": list(runs.values()),
    }
    for trickle, mode in ((False, "idle"), (True, "trickling")):
        few, many = runs[(trickle, FEW)], runs[(trickle, MANY)]
        for key in ("spark_jvm_cpu_pct_of_a_core", "python_driver_cpu_pct_of_a_core"):
            added = (many[key] - few[key]) / (MANY - FEW)
            result[f"{key.removesuffix('_of_a_core')}_per_{mode}_dataset"] = round(added, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--feed"]:
        sys.exit(feed(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
