"""An e2e job for ./submit.sh that runs until stopped: a dataset's raw topic counted per
micro-batch, checkpointed under the job's own CHECKPOINT_URI.

    ./submit.sh tests/e2e/jobs/forever.py [DATASET]      (default: temps)
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import DataFrame, SparkSession


def main(dataset: str = "temps") -> None:
    spark = SparkSession.builder.getOrCreate()  # named by ./submit.sh (--name)
    print(f"E2E-APP {spark.sparkContext.applicationId}", flush=True)
    records = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", os.environ["SPARK_KAFKA_BOOTSTRAP"])
        .option("subscribe", f"{dataset}.raw")
        .option("startingOffsets", "latest")
        .load()
    )

    def report(batch: DataFrame, batch_id: int) -> None:
        print(f"E2E-BATCH {batch_id} {batch.count()}", flush=True)

    query = (
        records.writeStream.foreachBatch(report)
        .option("checkpointLocation", f"{os.environ['CHECKPOINT_URI']}/main")
        .trigger(processingTime="2 seconds")
        .start()
    )
    query.awaitTermination()


if __name__ == "__main__":
    main(*sys.argv[1:2])
