"""pyspark with the image's Kafka connector reads a real Kafka and lands Parquet on a real HDFS."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery
from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

from harness.hdfs import HdfsCluster
from harness.kafka import KafkaBroker

pytestmark = pytest.mark.integration

MESSAGES = 100
PARTITIONS = 2
QUERY_TIMEOUT_S = 120
# Half the readings on each side of midnight UTC: two date partitions.
FIRST_READING = datetime(2024, 3, 1, 23, 10, tzinfo=UTC)
READING_SCHEMA = StructType(
    [
        StructField("id", IntegerType()),
        StructField("station", StringType()),
        StructField("ts", StringType()),
        StructField("temp", DoubleType()),
    ]
)


@dataclass(frozen=True)
class Produced:
    topic: str
    values: list[str]


def reading(i: int) -> dict[str, object]:
    ts = FIRST_READING + timedelta(minutes=i)
    return {"id": i, "station": f"s{i % 3}", "ts": ts.isoformat(), "temp": 10.0 + i / 4}


@pytest.fixture(scope="module")
def produced(kafka: KafkaBroker) -> Produced:
    """A topic holding MESSAGES JSON readings, shared by this module's tests."""
    topic = kafka.create_topic(f"spark-harness-{uuid.uuid4().hex[:8]}", PARTITIONS)
    values = [json.dumps(reading(i)) for i in range(MESSAGES)]
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    try:
        futures = [
            producer.send(topic, value.encode(), key=str(i).encode())
            for i, value in enumerate(values)
        ]
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=1)
    finally:
        producer.close()
    return Produced(topic, values)


@pytest.fixture
def hdfs_folder(hdfs: HdfsCluster, request: pytest.FixtureRequest) -> str:
    """hdfs://… URI of a new folder of this test's own."""
    path = f"/tests/spark/{request.node.name}-{uuid.uuid4().hex[:8]}"
    hdfs.mkdir(path)
    return f"{hdfs.uri}{path}"


def kafka_options(kafka: KafkaBroker, topic: str) -> dict[str, str]:
    return {
        "kafka.bootstrap.servers": kafka.bootstrap,
        "subscribe": topic,
        "startingOffsets": "earliest",
    }


def parsed_readings(raw: DataFrame) -> DataFrame:
    """The raw layer's shape: the JSON fields plus a `date` partition column from `ts`."""
    fields = raw.select(F.from_json(F.col("value").cast("string"), READING_SCHEMA).alias("r"))
    return fields.select("r.*").withColumn("date", F.to_date(F.to_timestamp("ts")))


def land_raw_layer(
    spark: SparkSession, kafka: KafkaBroker, topic: str, folder: str
) -> StreamingQuery:
    """Everything in the topic now, as Parquet under folder/raw, checkpoint in folder/_checkpoint."""
    stream = spark.readStream.format("kafka").options(**kafka_options(kafka, topic)).load()
    query = (
        parsed_readings(stream)
        .writeStream.format("parquet")
        .partitionBy("date")
        .option("path", f"{folder}/raw")
        .option("checkpointLocation", f"{folder}/_checkpoint")
        .trigger(availableNow=True)
        .start()
    )
    assert query.awaitTermination(QUERY_TIMEOUT_S), "the availableNow query did not finish"
    assert query.exception() is None
    return query


def rows_read(query: StreamingQuery) -> int:
    return sum(progress["numInputRows"] for progress in query.recentProgress)


def test_the_hadoop_client_gets_the_harness_settings(
    spark: SparkSession, hdfs: HdfsCluster
) -> None:
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    assert conf.get("fs.defaultFS") == hdfs.uri
    # One DataNode: the client must not look for another to replace it in a write pipeline.
    assert conf.get("dfs.client.block.write.replace-datanode-on-failure.enable") == "false"


def test_batch_read_returns_exactly_what_was_produced(
    spark: SparkSession, kafka: KafkaBroker, produced: Produced
) -> None:
    frame = (
        spark.read.format("kafka")
        .options(**kafka_options(kafka, produced.topic), endingOffsets="latest")
        .load()
    )
    values = [row.value for row in frame.select(F.col("value").cast("string")).collect()]
    assert sorted(values) == sorted(produced.values)


def test_streaming_lands_partitioned_parquet_once(
    spark: SparkSession, kafka: KafkaBroker, hdfs: HdfsCluster, produced: Produced, hdfs_folder: str
) -> None:
    first = land_raw_layer(spark, kafka, produced.topic, hdfs_folder)
    assert rows_read(first) == MESSAGES

    expected = sorted(json.loads(value)["id"] for value in produced.values)
    landed = spark.read.parquet(f"{hdfs_folder}/raw")
    assert sorted(row.id for row in landed.select("id").collect()) == expected
    assert [row.asDict() for row in landed.where("id = 0").collect()] == [
        {**reading(0), "date": FIRST_READING.date()}
    ]
    # Listed through HDFS's own client: the date partitions are folders in HDFS.
    folders = {path.rsplit("/", 1)[-1] for path in hdfs.ls(f"{hdfs_folder}/raw")}
    assert {"date=2024-03-01", "date=2024-03-02", "_spark_metadata"} <= folders

    again = land_raw_layer(spark, kafka, produced.topic, hdfs_folder)
    assert rows_read(again) == 0
    assert spark.read.parquet(f"{hdfs_folder}/raw").count() == MESSAGES
