"""An e2e job for ./submit.sh: prints the environment the stack gives a job, then counts a
dataset's raw layer (a batch job that ends).

    ./submit.sh tests/e2e/jobs/count_raw.py [DATASET]      (default: temps)
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

PROMISED = (
    "SPARK_KAFKA_BOOTSTRAP", "RAW_LAYER_URI", "CHECKPOINT_URI", "INFLUX_URL", "INFLUX_ORG",
    "INFLUX_BUCKET", "INFLUX_PIPELINE_BUCKET", "INFLUX_WRITE_TOKEN_FILE", "DATASETS_DIR",
)  # fmt: skip


def main(dataset: str = "temps") -> int:
    for name in PROMISED:
        print(f"E2E-ENV {name}={os.environ.get(name, '')}", flush=True)
    with open(os.environ["INFLUX_WRITE_TOKEN_FILE"]) as token:
        print(f"E2E-TOKEN {'present' if token.read().strip() else 'empty'}", flush=True)
    spark = SparkSession.builder.getOrCreate()  # named by ./submit.sh: count-raw
    rows = spark.read.parquet(f"{os.environ['RAW_LAYER_URI']}/{dataset}").count()
    print(f"E2E-APP {spark.sparkContext.applicationId}", flush=True)
    print(f"E2E-COUNT {dataset} {rows}", flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
