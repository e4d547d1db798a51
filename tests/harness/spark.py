"""pyspark in local mode with the spark image's extra jars, for tests on 127.0.0.1.

The jars are the Kafka connector and its own dependencies resolved from images/spark/pom.xml
(see harness.jars); everything else is pyspark's own jars folder, as in the image. Nothing is
downloaded at run time (no --packages).

    spark = spark_session("my-test", resolve_jars("spark"), hdfs.conf_dir)
    spark.read.format("kafka").option("kafka.bootstrap.servers", kafka.bootstrap)...
    spark.stop()

The driver JVM is pyspark's gateway: it exits when this interpreter does (pyspark kills it at
exit, and it also stops when its stdin, a pipe from this process, closes).
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pyspark
from pyspark import SparkContext
from pyspark.sql import DataFrame, SparkSession

from sparkjob.config import JobConfig
from streamlab.settings import Settings
from streamlab.spark.conf import JOB_SQL_CONF

HOST = "127.0.0.1"
MIN_JAVA = 17
HADOOP_SITE_FILES = ("core-site.xml", "hdfs-site.xml")
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "settings.env"

# Sized for the 2-core test machines: two task slots, two shuffle partitions (200 by default,
# each a task of its own on every tiny shuffle), a heap that tiny test data never fills.
DEFAULT_CONF = {
    "spark.master": "local[2]",
    "spark.driver.memory": "1g",
    # C1 only: measured here, the session starts ~1.5 s sooner and tiny test queries run no
    # slower. pyspark's launcher still adds its Java 17 --add-opens flags next to these.
    # C1 alone gets a 48 MB code cache, which a whole session of Spark tests' generated
    # code fills ("Out of space in CodeCache"): it keeps the 240 MB of the default JIT.
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": HOST,
    "spark.driver.bindAddress": HOST,
    # Dates derived from timestamps (the raw layer's partition column) must not depend on
    # the machine's time zone.
    "spark.sql.session.timeZone": "UTC",
    "spark.log.level": "WARN",
    **JOB_SQL_CONF,  # the tests' queries run as the job's do
}


def settings_job_config(**changes: Any) -> JobConfig:
    """The job's config from settings.env, with a test's services and folders."""
    settings = Settings.load(SETTINGS_FILE, environ={})
    return dataclasses.replace(JobConfig.from_settings(settings), **changes)


class SparkHarnessError(RuntimeError):
    """pyspark cannot start as asked; the message says what to do."""


def spark_session(
    app_name: str, jars: Path, hdfs_conf_dir: Path | None = None, **conf: str
) -> SparkSession:
    """A new local-mode SparkSession with the jars of `jars` (a resolve_jars("spark") folder).

    hdfs_conf_dir: a Hadoop conf folder (core-site.xml, hdfs-site.xml) whose properties go to
    Spark's Hadoop client as spark.hadoop.*, so hdfs:// paths resolve with those settings.
    conf: more Spark settings, winning over the defaults: **{"spark.x.y": "value"}.
    """
    if SparkContext._active_spark_context is not None:
        raise SparkHarnessError("a SparkContext is already running: stop it first")
    _prepare_environment()
    scratch = _scratch_dir()
    settings = {
        **DEFAULT_CONF,
        "spark.app.name": app_name,
        "spark.jars": ",".join(str(path) for path in jar_paths(jars)),
        "spark.local.dir": str(scratch / "local"),
        "spark.sql.warehouse.dir": (scratch / "warehouse").as_uri(),
        **(hadoop_conf(hdfs_conf_dir) if hdfs_conf_dir else {}),
        **conf,
    }
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def jar_paths(jars: Path) -> list[Path]:
    paths = sorted(jars.glob("*.jar"))
    if not paths:
        raise SparkHarnessError(f"no jars in {jars}: resolve them with tests/harness/jars.py spark")
    return paths


def hadoop_conf(conf_dir: Path) -> dict[str, str]:
    """The site files' properties as spark.hadoop.* settings.

    Preferred to HADOOP_CONF_DIR, which only the first JVM of the process would read: pyspark
    keeps its gateway JVM across SparkSession.stop().
    """
    settings: dict[str, str] = {}
    for name in HADOOP_SITE_FILES:
        path = conf_dir / name
        if not path.is_file():
            raise SparkHarnessError(f"{path} does not exist: is {conf_dir} a Hadoop conf folder?")
        for prop in ElementTree.parse(path).getroot().iter("property"):
            settings[f"spark.hadoop.{prop.findtext('name')}"] = prop.findtext("value") or ""
    return settings


def driver_pid(spark: SparkSession) -> int:
    """The driver JVM's pid (pyspark's gateway process execs java)."""
    return spark.sparkContext._gateway.proc.pid


def find_java_home() -> Path:
    """$JAVA_HOME if it holds a java, else the JDK of the `java` on PATH (symlinks followed)."""
    named = os.environ.get("JAVA_HOME")
    if named and (Path(named) / "bin" / "java").is_file():
        home = Path(named)
    else:
        java = shutil.which("java")
        if java is None:
            raise SparkHarnessError("java is not installed: run ./tests/run.sh")
        home = Path(java).resolve().parents[1]
    _check_java_version(home)
    return home


def _check_java_version(home: Path) -> None:
    # Every JDK build has a `release` file; without one, let Spark itself complain.
    release = home / "release"
    text = release.read_text(errors="replace") if release.is_file() else ""
    match = re.search(r'^JAVA_VERSION="(\d+)', text, re.MULTILINE)
    if match and int(match.group(1)) < MIN_JAVA:
        raise SparkHarnessError(
            f"Spark 4 needs Java {MIN_JAVA}+, {home} is Java {match.group(1)}: "
            f"set JAVA_HOME to a JDK {MIN_JAVA} (Debian: openjdk-17-jdk-headless)"
        )


def _prepare_environment() -> None:
    # pyspark launches its JVM through $SPARK_HOME/bin/spark-submit: a SPARK_HOME of some
    # other Spark on this machine would bring that Spark's jars and version instead.
    os.environ["SPARK_HOME"] = str(Path(pyspark.__file__).parent)
    os.environ["JAVA_HOME"] = str(find_java_home())
    # Python workers (UDFs, createDataFrame from Python objects) run this very interpreter.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    # Else Spark looks the hostname up and warns that it resolves to a loopback address.
    os.environ["SPARK_LOCAL_IP"] = HOST


def _scratch_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="streamlab-spark-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def kafka_frame(spark: SparkSession, values: list[str]) -> DataFrame:
    """Rows shaped as the Kafka source's (value as bytes, topic, partition, offset, time),
    one per value, offsets in order, for tests of what the job does with records."""
    when = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    rows = [(v.encode(), "t.raw", 0, offset, when) for offset, v in enumerate(values)]
    schema = "value binary, topic string, partition int, offset bigint, timestamp timestamp"
    return spark.createDataFrame(rows, schema)
