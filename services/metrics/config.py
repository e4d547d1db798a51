"""The collector's configuration, read once from the settings loader and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamlab.settings import Settings, SettingsError


@dataclass(frozen=True)
class MetricsConfig:
    datasets_dir: Path
    influx_url: str
    influx_org: str
    pipeline_bucket: str
    token_file: Path
    influx_batch_size: int
    # A source whose address is "" is not polled (lite: no YARN or HDFS; full: no master).
    streamer_url: str
    kafka_bootstrap: str
    yarn_rm_url: str
    webhdfs_url: str
    spark_master_ui_url: str
    interval_s: float
    timeout_s: float
    heartbeat_file: str  # "": none

    @classmethod
    def from_settings(cls, s: Settings) -> MetricsConfig:
        config = cls(
            datasets_dir=s.path("DATASETS_DIR"),
            influx_url=s.str("INFLUX_URL"),
            influx_org=s.str("INFLUX_ORG"),
            pipeline_bucket=s.str("INFLUX_PIPELINE_BUCKET"),
            token_file=s.path("INFLUX_WRITE_TOKEN_FILE"),
            influx_batch_size=s.int("INFLUX_BATCH_SIZE"),
            streamer_url=_url(s, "STREAMER_URL"),
            kafka_bootstrap=s.str("KAFKA_BOOTSTRAP_SERVERS").strip(),
            yarn_rm_url=_url(s, "YARN_RM_URL"),
            webhdfs_url=_url(s, "WEBHDFS_URL"),
            spark_master_ui_url=_url(s, "SPARK_MASTER_UI_URL"),
            interval_s=s.float("METRICS_INTERVAL_S"),
            timeout_s=s.float("METRICS_TIMEOUT_S"),
            heartbeat_file=s.str("METRICS_HEARTBEAT_FILE").strip(),
        )
        config.check()
        return config

    def check(self) -> None:
        if self.interval_s <= 0:
            raise SettingsError(f"setting METRICS_INTERVAL_S={self.interval_s} must be above 0")
        if not 0 < self.timeout_s < self.interval_s:
            raise SettingsError(
                f"setting METRICS_TIMEOUT_S={self.timeout_s} must be above 0 and below "
                f"METRICS_INTERVAL_S={self.interval_s}, so that a slow source cannot stall "
                "the cycle: lower METRICS_TIMEOUT_S or raise METRICS_INTERVAL_S"
            )


def _url(s: Settings, key: str) -> str:
    return s.str(key).strip().rstrip("/")
