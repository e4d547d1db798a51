"""Seed 000's curated layer: a batch job that reads a dataset's raw layer, cleans it and
writes a curated layer (under CURATED_LAYER_URI) and its KPIs. Re-running it changes nothing.

    ./submit.sh jobs/examples/curated.py [DATASET]        (default: idfm_stops)

Cleaning, by the dataset's spec: every tag present, one row per tags and event time (the
original time where the spec keeps one, else the row's `ts`: a journey seen in ten polls is
one row), the fields as typed by the spec. The curated layer is Parquet by date under
<CURATED_LAYER_URI>/<dataset>; a run replaces the dates it writes, so running it again
over the same raw layer gives the same files' rows. KPIs per date go to InfluxDB as
`<dataset>_curated` (rows read, rows kept, duplicates dropped), at the date's midnight: a
re-run overwrites the same points.
"""

from __future__ import annotations

import sys

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streamlab import lab
from streamlab.specs import DatasetSpec


def event_time(raw: DataFrame) -> Column:
    """The row's event time: its original time if the streamer kept one, else ts."""
    return (
        F.coalesce(F.col("original_ts"), F.col("ts"))
        if "original_ts" in raw.columns
        else F.col("ts")
    )


def curate(raw: DataFrame, spec: DatasetSpec) -> DataFrame:
    """The raw layer's rows cleaned: tags present, one row per tags and event time."""
    rows = raw.withColumn("event_time", event_time(raw)).where(F.col("event_time").isNotNull())
    for tag in spec.tags:
        rows = rows.where(F.col(tag).isNotNull() & (F.col(tag) != ""))
    keys = [*spec.tags, "event_time"]
    return rows.dropDuplicates(keys).select(
        *keys, *spec.field_names, F.to_date("event_time").alias("date")
    )


def kpis(raw: DataFrame, curated: DataFrame) -> DataFrame:
    """Per date (of the event time): rows read, rows kept and duplicates dropped."""
    read = raw.groupBy(F.to_date(event_time(raw)).alias("date")).agg(
        F.count(F.lit(1)).alias("rows_read")
    )
    kept = curated.groupBy("date").agg(F.count(F.lit(1)).alias("rows_kept"))
    return (
        read.join(kept, on="date", how="left")
        .fillna(0, ["rows_kept"])
        .withColumn("duplicates", F.col("rows_read") - F.col("rows_kept"))
        .withColumn("ts", F.to_timestamp("date"))
        .withColumn("date", F.col("date").cast("string"))
    )


def curated_path(dataset: str) -> str:
    return f"{lab.stack().curated_layer_uri}/{dataset}"


def main(dataset: str = "idfm_stops") -> None:
    spark = lab.session(f"curated-{dataset}")
    # a run replaces only the dates it writes: the others stay as they are
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    spec = lab.spec(dataset)
    raw = lab.read_raw_layer(spark, dataset)
    curated = curate(raw, spec)
    curated.write.mode("overwrite").partitionBy("date").parquet(curated_path(dataset))
    written = lab.write_influx(kpis(raw, curated), f"{dataset}_curated", ["date"],
                               ["rows_read", "rows_kept", "duplicates"])  # fmt: skip
    kept = spark.read.parquet(curated_path(dataset)).count()
    print(f"curated: {raw.count()} raw rows -> {kept} curated rows in {curated_path(dataset)}; "
          f"{written} KPI points in {dataset}_curated", flush=True)  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:2])
