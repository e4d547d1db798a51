"""Seed 004's per-station indicators written by hand: what datasets/velib.yaml declares as
its `indicators` aggregation (the topic velib.indicators), as a job of your own.

    ./submit.sh jobs/examples/velib_indicators.py

Per minute, per station (looked up in data/velib_stations.csv: name and postcode), the
latest and the largest number of bikes, mechanical bikes and e-bikes; each update of a
station's minute goes to the topic velib.indicators_by_hand, keyed by station and minute,
as the same JSON record the spec-declared aggregation sends.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from streamlab import lab

TOPIC = "velib.indicators_by_hand"
FIELDS = ("bikes", "mechanical", "ebike")
ISO_MICROS = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"


def stations(spark: SparkSession, where: lab.Stack | None = None) -> DataFrame:
    """The stations table beside the spec, read on the driver (it is small)."""
    path = (where or lab.stack()).datasets_dir / "data" / "velib_stations.csv"
    table = pd.read_csv(path, dtype={"station_id": str})[["station_id", "name", "postcode"]]
    return spark.createDataFrame(table)


def indicators(rows: DataFrame, table: DataFrame) -> DataFrame:
    """Per postcode, station and minute: the latest and largest of each count, as (key,
    value) records."""
    named = rows.join(F.broadcast(table), on="station_id", how="left")
    columns = [fn(F.col(f)).alias(f"{f}_{name}") for f in FIELDS
               for name, fn in (("last", F.last), ("max", F.max))]  # fmt: skip
    groups = (
        named.withWatermark("ts", "1 minute")
        .groupBy(F.window("ts", "1 minute"), "postcode", "name")
        .agg(*columns)
    )
    start = F.date_format("window.start", ISO_MICROS).alias("window_start")
    end = F.date_format("window.end", ISO_MICROS).alias("window_end")
    value = F.struct(
        F.lit("velib").alias("dataset"), F.lit("indicators").alias("aggregation"),
        "postcode", "name", start, end, *[c for c in groups.columns if c.endswith(("_last", "_max"))],
    )  # fmt: skip
    return groups.select(
        F.to_json(F.struct("postcode", "name", start)).alias("key"),
        F.to_json(value).alias("value"),
    )


def main() -> None:
    spark = lab.session("velib-indicators")
    lab.ensure_topic(TOPIC)
    records = indicators(lab.read_stream(spark, "velib", "earliest"), stations(spark))
    query = (
        records.writeStream.outputMode("update")
        .format("kafka")
        .option("kafka.bootstrap.servers", lab.stack().kafka_bootstrap)
        .option("topic", TOPIC)
        .option("checkpointLocation", lab.checkpoint("indicators"))
        .trigger(processingTime="10 seconds")
        .start()
    )
    print(f"velib_indicators: per-station indicators to {TOPIC}", flush=True)
    query.awaitTermination()


if __name__ == "__main__":
    main()
