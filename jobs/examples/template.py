"""The smallest streaming job: a dataset's rows counted per minute and tag, into InfluxDB.

Copy it, change the dataset and the computation, run it with ./submit.sh:
    ./submit.sh jobs/examples/template.py [DATASET]      (default: sensors)
It runs until stopped (Ctrl-C, or ./submit.sh --kill template); stopped and started again,
it resumes from its checkpoint. Its points are `<dataset>_per_minute` in the data bucket.
"""

from __future__ import annotations

import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from streamlab import lab


def per_minute(rows: DataFrame, tags: list[str]) -> DataFrame:
    """Rows per minute and tag values (late rows up to a minute still count)."""
    return (
        rows.withWatermark("ts", "1 minute")
        .groupBy(F.window("ts", "1 minute"), *tags)
        .agg(F.count(F.lit(1)).alias("rows"))
        .select(*tags, F.col("window.start").alias("ts"), "rows")
    )


def main(dataset: str = "sensors") -> None:
    spark = lab.session(f"template-{dataset}")
    tags = list(lab.spec(dataset).tags)
    counts = per_minute(lab.read_stream(spark, dataset), tags)
    query = (
        counts.writeStream.outputMode("update")
        .foreachBatch(
            lambda batch, _: lab.write_influx(batch, f"{dataset}_per_minute", tags, ["rows"])
        )
        .option("checkpointLocation", lab.checkpoint(dataset))
        .trigger(processingTime="10 seconds")
        .start()
    )
    print(f"template: counting {dataset} per minute into {dataset}_per_minute", flush=True)
    query.awaitTermination()


if __name__ == "__main__":
    main(*sys.argv[1:2])
