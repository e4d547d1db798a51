"""bench/run.sh idle: what an idle dataset costs the Spark job, with the job's shape as it is.

Real Kafka, HDFS and Spark (local mode, the test harness) and a real influxd 2.7, in one run:
the job's `start()` (sparkjob.job) over IDLE_FEW and then IDLE_MANY idle datasets (copies of
the sensors spec under their own names, topics created, no row sent), at the shipped triggers
(settings.env). For each, after SETTLE_S to let every query start, over MEASURE_S:
- the Spark JVM's CPU (local mode: driver and executor in one process), from /proc;
- this Python process's CPU (py4j callbacks, the progress listener, foreachBatch);
- the streaming queries running and the micro-batches they ran.
The figure of interest is the CPU per added idle dataset: the job's cost follows the number
of datasets when it is well above zero. The last line printed is one JSON object.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from harness.hdfs import HdfsCluster  # noqa: E402
from harness.influx import InfluxServer, set_up_lab  # noqa: E402
from harness.jars import resolve_jars  # noqa: E402
from harness.kafka import KafkaBroker, ZooKeeperServer  # noqa: E402
from harness.spark import spark_session  # noqa: E402
from harness.streamer import create_topics, unique_spec  # noqa: E402
from sparkjob.config import JobConfig  # noqa: E402
from sparkjob.job import start  # noqa: E402
from streamlab.settings import Settings  # noqa: E402
from streamlab.spark.conf import JOB_SQL_CONF  # noqa: E402

JOB = JobConfig.from_settings(Settings.load())
IDLE_FEW, IDLE_MANY = 1, 10
SETTLE_S = 30.0
MEASURE_S = 60.0
TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench idle] {message}", file=sys.stderr, flush=True)


def spark_jvm_pids() -> list[int]:
    """The local-mode Spark JVMs this process started (spark-submit's SparkSubmit)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if b"org.apache.spark.deploy.SparkSubmit" in cmdline and parent == os.getpid():
            pids.append(int(entry.name))
    return pids


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(spark, count: int, broker, hdfs, lab, tmp: Path) -> dict[str, float]:
    specs = {}
    for _ in range(count):
        spec = unique_spec("sensors")
        create_topics(broker, spec)
        specs[spec.name] = spec
    config = dataclasses.replace(
        JOB, datasets_dir=tmp, master="local[2]", kafka_bootstrap=broker.bootstrap,
        raw_layer_uri=f"{hdfs.uri}/bench-idle/{count}/raw",
        checkpoint_uri=f"{hdfs.uri}/bench-idle/{count}/checkpoints",
        influx_url=lab.url, influx_org="streamlab", influx_bucket="streamlab",
        pipeline_bucket="pipeline", token_file=tmp / "unused",
    )  # fmt: skip
    queries = start(spark, specs, config, lab.write_token)
    try:
        time.sleep(SETTLE_S)
        jvm = spark_jvm_pids()
        if not jvm:
            raise RuntimeError("no SparkSubmit JVM among this process's children: cannot measure")
        batches = lambda: sum(len(q.recentProgress) for q in queries)  # noqa: E731
        jvm_before, py_before, batches_before = (
            sum(cpu_seconds(p) for p in jvm), time.process_time(), batches()
        )  # fmt: skip
        time.sleep(MEASURE_S)
        jvm_cpu = sum(cpu_seconds(p) for p in jvm) - jvm_before
        py_cpu = time.process_time() - py_before
        progress = batches() - batches_before
    finally:
        for query in queries:
            query.stop()
    result = {
        "datasets": count,
        "queries": len(queries),
        "spark_jvm_cpu_pct_of_a_core": round(100 * jvm_cpu / MEASURE_S, 1),
        "python_driver_cpu_pct_of_a_core": round(100 * py_cpu / MEASURE_S, 1),
        "progress_events": progress,
    }
    log(f"{count} idle datasets: {result}")
    return result


def main() -> int:
    kafka_jars, hadoop_jars, spark_jars = (resolve_jars(i) for i in ("kafka", "hadoop", "spark"))
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp_name:
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
            spark = spark_session("bench-idle", spark_jars, hdfs.conf_dir, **session)
            few = measure(spark, IDLE_FEW, broker, hdfs, lab, tmp)
            many = measure(spark, IDLE_MANY, broker, hdfs, lab, tmp)
            spark.stop()
    added = IDLE_MANY - IDLE_FEW
    per_dataset = (many["spark_jvm_cpu_pct_of_a_core"] - few["spark_jvm_cpu_pct_of_a_core"]) / added
    print(
        json.dumps(
            {
                "triggers": {
                    "sinks": JOB.trigger_interval,
                    "raw_layer": JOB.raw_layer_trigger_interval,
                },
                "few": few,
                "many": many,
                "spark_jvm_cpu_pct_per_idle_dataset": round(per_dataset, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
