"""For your own Spark jobs on the stack (`./submit.sh jobs/my_job.py`): the session set up for
the stack, a dataset's typed stream and raw layer read by its spec, DataFrames written to
InfluxDB (batched, idempotent) and to Kafka topics.

    from streamlab import lab

    spark = lab.session("my-job")
    rows = lab.read_stream(spark, "velib")          # valid rows, typed by datasets/velib.yaml
    raw = lab.read_raw_layer(spark, "velib")        # the raw layer on HDFS, as a batch
    lab.write_influx(frame, "my_measurement", tags=["station_id"], fields=["bikes"])
    lab.ensure_topic("velib.mine")
    lab.write_topic(frame, "velib.mine", key="station_id")

The stack's addresses come from the settings (settings.env, then the environment
./submit.sh gives the job): SPARK_KAFKA_BOOTSTRAP, RAW_LAYER_URI, CHECKPOINT_URI,
CURATED_LAYER_URI, INFLUX_URL, INFLUX_ORG, INFLUX_BUCKET, INFLUX_WRITE_TOKEN_FILE and
DATASETS_DIR. docs/jobs.md has the whole story and jobs/examples/ working jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from .influx import TIME_COLUMN, InfluxTarget, Series, read_token
from .kafka_admin import AdminConnection, create_topic
from .settings import Settings
from .spark.conf import JOB_SQL_CONF
from .spark.frame_writes import write_frame
from .spark.parsing import parse, raw_topic_stream, valid_rows
from .specs import DatasetSpec, load_spec


@dataclass(frozen=True)
class Stack:
    """Where the stack's services are, for a job."""

    kafka_bootstrap: str
    raw_layer_uri: str
    checkpoint_uri: str
    curated_layer_uri: str
    datasets_dir: Path
    influx: InfluxTarget  # the data bucket, with the write token
    settings: Settings

    @classmethod
    def from_settings(cls, settings: Settings) -> Stack:
        influx = InfluxTarget(
            settings.str("INFLUX_URL"), settings.str("INFLUX_ORG"),
            settings.str("INFLUX_BUCKET"), read_token(settings.path("INFLUX_WRITE_TOKEN_FILE")),
            batch_size=settings.int("INFLUX_BATCH_SIZE"),
        )  # fmt: skip
        return cls(
            kafka_bootstrap=settings.str("SPARK_KAFKA_BOOTSTRAP"),
            raw_layer_uri=settings.str("RAW_LAYER_URI").rstrip("/"),
            checkpoint_uri=settings.str("CHECKPOINT_URI").rstrip("/"),
            curated_layer_uri=settings.str("CURATED_LAYER_URI").rstrip("/"),
            datasets_dir=settings.path("DATASETS_DIR"),
            influx=influx,
            settings=settings,
        )


@cache
def stack() -> Stack:
    """The stack of this process's settings (read once)."""
    return Stack.from_settings(Settings.load())


def session(app_name: str, **conf: str) -> SparkSession:
    """A SparkSession with the job's SQL settings and UTC times. Under ./submit.sh the
    master and the cluster come from spark-submit; conf adds or overrides settings."""
    builder = SparkSession.builder.appName(app_name).config("spark.sql.session.timeZone", "UTC")
    for key, value in {**JOB_SQL_CONF, **conf}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spec(dataset: str, where: Stack | None = None) -> DatasetSpec:
    """A dataset's spec from datasets/<dataset>.yaml (SpecError names what is wrong)."""
    where = where or stack()
    return load_spec(where.datasets_dir / f"{dataset}.yaml", where.settings.values)


def read_stream(
    spark: SparkSession,
    dataset: str | DatasetSpec,
    starting_offsets: str = "latest",
    where: Stack | None = None,
) -> DataFrame:
    """The dataset's valid rows as a stream: its tags and fields typed by its spec, `ts`
    (event time), `original_ts`, `seq`, Kafka coordinates and `date` (the main job's parsing;
    rows it cannot parse are the main job's dead letters, not yours). starting_offsets:
    latest (rows from now on) or earliest (the whole topic)."""
    where = where or stack()
    the_spec = dataset if isinstance(dataset, DatasetSpec) else spec(dataset, where)
    kafka = raw_topic_stream(
        spark, where.kafka_bootstrap, the_spec, startingOffsets=starting_offsets
    )
    return valid_rows(parse(kafka, the_spec), the_spec)


def read_raw_layer(spark: SparkSession, dataset: str, where: Stack | None = None) -> DataFrame:
    """The dataset's raw layer (Parquet by date) as a batch DataFrame."""
    return spark.read.parquet(raw_layer_path(dataset, where))


def raw_layer_path(dataset: str, where: Stack | None = None) -> str:
    return f"{(where or stack()).raw_layer_uri}/{dataset}"


def checkpoint(query: str = "main", where: Stack | None = None) -> str:
    """A checkpoint location for one of your job's streaming queries: under CHECKPOINT_URI,
    which ./submit.sh makes the job's own (<stack's checkpoints>/jobs/<job name>), so the
    same job and query resume where they stopped."""
    return f"{(where or stack()).checkpoint_uri}/{query}"


def write_influx(
    frame: DataFrame,
    measurement: str,
    tags: list[str],
    fields: list[str],
    time: str = "ts",
    where: Stack | None = None,
) -> int:
    """Writes a (batch) DataFrame's rows as points, from the executors, in batches through
    the stack's one write path; returns the points written. A point is its measurement,
    tags and time (the timestamp column `time`, to the microsecond): writing the same rows
    again overwrites the same points. In a stream, call it from foreachBatch."""
    columns = frame.select(*tags, *fields, (F.unix_micros(F.col(time)) * 1000).alias(TIME_COLUMN))
    series = Series(measurement, tuple(tags), tuple(fields))
    return write_frame(columns, (where or stack()).influx, series).points


def ensure_topic(topic: str, partitions: int = 1, where: Stack | None = None) -> bool:
    """Creates the topic your job writes to unless it exists (the stack's broker creates no
    topic on its own); True if created."""
    where = where or stack()
    connection = AdminConnection(where.kafka_bootstrap, "streamlab-lab", timeout_ms=10_000)
    try:
        factor = where.settings.int("KAFKA_REPLICATION_FACTOR")
        return create_topic(connection.client(), topic, partitions, factor)
    finally:
        connection.close()


def write_topic(
    frame: DataFrame, topic: str, key: str | None = None, where: Stack | None = None
) -> None:
    """Writes a (batch) DataFrame's rows to a Kafka topic (see ensure_topic) as JSON records
    of all their columns, keyed by the column `key`. In a stream, call it from
    foreachBatch."""
    value = F.to_json(F.struct(*frame.columns)).alias("value")
    record_key = (F.col(key).cast("string") if key else F.lit(None).cast("string")).alias("key")
    (
        frame.select(record_key, value)
        .write.format("kafka")
        .option("kafka.bootstrap.servers", (where or stack()).kafka_bootstrap)
        .option("topic", topic)
        .save()
    )
