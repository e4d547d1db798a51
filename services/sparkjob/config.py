"""The Spark job's configuration, read once from the settings loader and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamlab.settings import Settings


@dataclass(frozen=True)
class JobConfig:
    datasets_dir: Path
    master: str
    kafka_bootstrap: str
    raw_layer_uri: str
    checkpoint_uri: str
    influx_url: str
    influx_org: str
    influx_bucket: str
    pipeline_bucket: str
    token_file: Path
    trigger_interval: str
    raw_layer_trigger_interval: str
    max_offsets_per_trigger: int
    kafka_max_poll_records: int
    kafka_max_records_per_partition: int
    kafka_fetch_max_wait_ms: int
    starting_offsets: str
    shuffle_partitions: int
    influx_batch_size: int
    datasets: str

    @classmethod
    def from_settings(cls, s: Settings) -> JobConfig:
        return cls(
            datasets_dir=s.path("DATASETS_DIR"),
            master=s.str("SPARK_MASTER"),
            kafka_bootstrap=s.str("SPARK_KAFKA_BOOTSTRAP"),
            raw_layer_uri=s.str("RAW_LAYER_URI"),
            checkpoint_uri=s.str("CHECKPOINT_URI"),
            influx_url=s.str("INFLUX_URL"),
            influx_org=s.str("INFLUX_ORG"),
            influx_bucket=s.str("INFLUX_BUCKET"),
            pipeline_bucket=s.str("INFLUX_PIPELINE_BUCKET"),
            token_file=s.path("INFLUX_WRITE_TOKEN_FILE"),
            trigger_interval=s.str("SPARK_TRIGGER_INTERVAL"),
            raw_layer_trigger_interval=s.str("SPARK_RAW_LAYER_TRIGGER_INTERVAL"),
            max_offsets_per_trigger=s.int("SPARK_MAX_OFFSETS_PER_TRIGGER"),
            kafka_max_poll_records=s.int("SPARK_KAFKA_MAX_POLL_RECORDS"),
            kafka_max_records_per_partition=s.int("SPARK_KAFKA_MAX_RECORDS_PER_PARTITION"),
            kafka_fetch_max_wait_ms=s.int("SPARK_KAFKA_FETCH_MAX_WAIT_MS"),
            starting_offsets=s.str("SPARK_STARTING_OFFSETS"),
            shuffle_partitions=s.int("SPARK_SHUFFLE_PARTITIONS"),
            influx_batch_size=s.int("INFLUX_BATCH_SIZE"),
            datasets=s.str("SPARK_DATASETS"),
        )

    def selects(self, name: str) -> bool:
        choice = self.datasets.strip().lower()
        return choice == "all" or name in {n.strip() for n in choice.split(",")}

    def checkpoint(self, dataset: str, query: str) -> str:
        return f"{self.checkpoint_uri.rstrip('/')}/{dataset}/{query}"

    def raw_path(self, dataset: str) -> str:
        return f"{self.raw_layer_uri.rstrip('/')}/{dataset}"
