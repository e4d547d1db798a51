"""The provisioner's configuration, read once from the settings loader and passed to each step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from streamlab.settings import Settings, SettingsError

_DURATION_PART = re.compile(r"(\d+)(s|m|h|d|w)")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
# InfluxDB refuses a finite retention shorter than one hour.
MIN_RETENTION_S = 3600


def parse_retention(text: str, key: str = "INFLUX_RETENTION") -> int:
    """'7d', '72h', '1w2d', '30m' -> seconds; '0', 'infinite' or '' -> 0 (keep forever)."""
    value = text.strip().lower()
    if value in ("", "0", "infinite", "inf", "forever"):
        return 0
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise SettingsError(
            f"setting {key}={text!r} is not a duration: use e.g. 7d, 72h, 1w or 0 for infinite"
        )
    seconds = sum(int(n) * _UNIT_S[u] for n, u in parts)
    if 0 < seconds < MIN_RETENTION_S:
        raise SettingsError(f"setting {key}={text!r}: InfluxDB needs at least 1h, or 0 (infinite)")
    return seconds


def describe_retention(seconds: int) -> str:
    if seconds == 0:
        return "infinite"
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_S[unit] == 0:
            return f"{seconds // _UNIT_S[unit]}{unit}"
    return f"{seconds}s"


def hdfs_path(uri: str) -> str | None:
    """The path of an hdfs:// URI; None for other schemes (file:/ in the lite profile)."""
    parts = urlsplit(uri)
    if parts.scheme != "hdfs":
        return None
    return parts.path.rstrip("/") or "/"


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    replication_factor: int
    request_timeout_ms: int = 10_000
    connect_timeout_ms: int = 5_000  # one connection attempt while waiting for the broker


@dataclass(frozen=True)
class HdfsConfig:
    webhdfs_url: str  # "" in the lite profile: no HDFS
    superuser: str
    spark_user: str
    spark_dirs: tuple[str, ...]  # owned by the Spark user: raw layer, checkpoints
    timeout_s: float = 30.0

    @property
    def home(self) -> str:
        return f"/user/{self.spark_user}"


@dataclass(frozen=True)
class InfluxConfig:
    url: str
    org: str
    bucket: str
    pipeline_bucket: str
    retention_s: int
    admin_token_file: Path
    write_token_file: Path
    read_token_file: Path
    timeout_ms: int = 10_000

    @property
    def buckets(self) -> tuple[str, ...]:
        return (self.bucket, self.pipeline_bucket)


@dataclass(frozen=True)
class GrafanaConfig:
    url: str
    admin_user: str
    admin_password_file: Path
    influx_url: str  # InfluxDB as Grafana reaches it
    influx_org: str
    influx_bucket: str
    influx_pipeline_bucket: str
    read_token_file: Path
    dashboards_dir: Path
    timeout_s: float = 10.0


@dataclass(frozen=True)
class ProvisionConfig:
    datasets_dir: Path
    wait_s: float
    kafka: KafkaConfig
    hdfs: HdfsConfig
    influx: InfluxConfig
    grafana: GrafanaConfig

    @classmethod
    def from_settings(cls, s: Settings, datasets_dir: Path | None = None) -> ProvisionConfig:
        read_token = s.path("INFLUX_READ_TOKEN_FILE")
        return cls(
            datasets_dir=datasets_dir or s.path("DATASETS_DIR"),
            wait_s=s.float("PROVISION_WAIT_S"),
            kafka=KafkaConfig(
                bootstrap_servers=s.str("KAFKA_BOOTSTRAP_SERVERS"),
                replication_factor=s.int("KAFKA_REPLICATION_FACTOR"),
            ),
            hdfs=_hdfs(s),
            influx=InfluxConfig(
                url=s.str("INFLUX_URL"),
                org=s.str("INFLUX_ORG"),
                bucket=s.str("INFLUX_BUCKET"),
                pipeline_bucket=s.str("INFLUX_PIPELINE_BUCKET"),
                retention_s=parse_retention(s.str("INFLUX_RETENTION")),
                admin_token_file=s.path("INFLUX_ADMIN_TOKEN_FILE"),
                write_token_file=s.path("INFLUX_WRITE_TOKEN_FILE"),
                read_token_file=read_token,
            ),
            grafana=GrafanaConfig(
                url=s.str("GRAFANA_URL"),
                admin_user=s.str("GRAFANA_ADMIN_USER"),
                admin_password_file=s.path("GRAFANA_ADMIN_PASSWORD_FILE"),
                influx_url=s.str("GRAFANA_INFLUX_URL"),
                influx_org=s.str("INFLUX_ORG"),
                influx_bucket=s.str("INFLUX_BUCKET"),
                influx_pipeline_bucket=s.str("INFLUX_PIPELINE_BUCKET"),
                read_token_file=read_token,
                dashboards_dir=s.path("DASHBOARDS_DIR"),
            ),
        )


def _hdfs(s: Settings) -> HdfsConfig:
    uris = (s.str("RAW_LAYER_URI"), s.str("CHECKPOINT_URI"), s.str("CURATED_LAYER_URI"))
    return HdfsConfig(
        webhdfs_url=s.str("WEBHDFS_URL").strip(),
        superuser=s.str("HDFS_SUPERUSER"),
        spark_user=s.str("SPARK_USER"),
        spark_dirs=tuple(p for p in (hdfs_path(u) for u in uris) if p),
    )
