"""The streamer's configuration, read once from the settings loader and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from streamlab.settings import Settings, parse_env_file


@dataclass(frozen=True)
class ProducerConfig:
    bootstrap_servers: str
    acks: str
    linger_ms: int
    batch_size: int
    compression: str
    delivery_timeout_ms: int
    max_block_ms: int

    @classmethod
    def from_settings(cls, s: Settings) -> ProducerConfig:
        return cls(
            bootstrap_servers=s.str("KAFKA_BOOTSTRAP_SERVERS"),
            acks=s.str("PRODUCER_ACKS"),
            linger_ms=s.int("PRODUCER_LINGER_MS"),
            batch_size=s.int("PRODUCER_BATCH_SIZE"),
            compression=s.str("PRODUCER_COMPRESSION"),
            delivery_timeout_ms=s.int("PRODUCER_DELIVERY_TIMEOUT_MS"),
            max_block_ms=s.int("PRODUCER_MAX_BLOCK_MS"),
        )

    def kafka_kwargs(self) -> dict[str, object]:
        acks: int | str = "all" if self.acks == "all" else int(self.acks)
        compression = None if self.compression in ("", "none") else self.compression
        return {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "acks": acks,
            "enable_idempotence": True,
            "linger_ms": self.linger_ms,
            "batch_size": self.batch_size,
            "compression_type": compression,
            "delivery_timeout_ms": self.delivery_timeout_ms,
            "request_timeout_ms": min(30_000, self.delivery_timeout_ms),
            "max_block_ms": self.max_block_ms,
            "bootstrap_timeout_ms": self.max_block_ms,
            "allow_auto_create_topics": False,
            "metrics_enabled": False,
        }


@dataclass(frozen=True)
class EventsConfig:
    """Where the streamer records control events (rate changes, pauses): the pipeline bucket.

    Off when influx_url is empty (INFLUX_URL= in settings.env).
    queue_size and timeout_s are not in settings.env: events are a handful per minute at
    most, so 1000 queued events and a 5 s write timeout are far beyond what is needed.
    """

    influx_url: str
    org: str
    bucket: str
    token_file: Path | None
    queue_size: int = 1000
    timeout_s: float = 5.0

    @classmethod
    def from_settings(cls, s: Settings) -> EventsConfig:
        token_file = s.str("INFLUX_WRITE_TOKEN_FILE")
        return cls(
            influx_url=s.str("INFLUX_URL").strip(),
            org=s.str("INFLUX_ORG"),
            bucket=s.str("INFLUX_PIPELINE_BUCKET"),
            token_file=s.path("INFLUX_WRITE_TOKEN_FILE") if token_file else None,
        )


@dataclass(frozen=True)
class ApiLimits:
    """What one control API request may send or get: settings.env's STREAMER_MAX_BODY_BYTES,
    STREAMER_MAX_JSON_DEPTH, STREAMER_MAX_RECORDS, STREAMER_RECORD_VALUE_BYTES and
    STREAMER_KAFKA_VIEW_TIMEOUT_S."""

    max_body_bytes: int
    max_json_depth: int
    max_records: int
    record_value_bytes: int
    kafka_view_timeout_s: float

    @classmethod
    def from_settings(cls, s: Settings) -> ApiLimits:
        return cls(
            max_body_bytes=s.int("STREAMER_MAX_BODY_BYTES"),
            max_json_depth=s.int("STREAMER_MAX_JSON_DEPTH"),
            max_records=s.int("STREAMER_MAX_RECORDS"),
            record_value_bytes=s.int("STREAMER_RECORD_VALUE_BYTES"),
            kafka_view_timeout_s=s.float("STREAMER_KAFKA_VIEW_TIMEOUT_S"),
        )


@dataclass(frozen=True)
class StreamerConfig:
    datasets_dir: Path
    producer: ProducerConfig
    host: str
    port: int
    autostart: str
    max_rate: float
    max_interval_s: float
    max_speedup: float
    max_burst_s: float
    kafka_stall_s: float
    kafka_retry_s: float
    max_unacked: int
    max_source_bytes: int
    events: EventsConfig
    api: ApiLimits
    # What an http source's headers may name: the settings, overlaid by the API keys file.
    header_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, s: Settings) -> StreamerConfig:
        return cls(
            datasets_dir=s.path("DATASETS_DIR"),
            producer=ProducerConfig.from_settings(s),
            host=s.str("STREAMER_HOST"),
            port=s.int("STREAMER_PORT"),
            autostart=s.str("STREAMER_AUTOSTART"),
            max_rate=s.float("STREAMER_MAX_RATE"),
            max_interval_s=s.float("STREAMER_MAX_INTERVAL_S"),
            max_speedup=s.float("STREAMER_MAX_SPEEDUP"),
            max_burst_s=s.float("STREAMER_MAX_BURST_S"),
            kafka_stall_s=s.float("STREAMER_KAFKA_STALL_S"),
            kafka_retry_s=s.float("STREAMER_KAFKA_RETRY_S"),
            max_unacked=s.int("STREAMER_MAX_UNACKED"),
            max_source_bytes=s.int("STREAMER_MAX_SOURCE_BYTES"),
            events=EventsConfig.from_settings(s),
            api=ApiLimits.from_settings(s),
            header_env={**s.values, **api_keys(s)},
        )

    def autostarts(self, name: str, spec_autostart: bool) -> bool:
        """STREAMER_AUTOSTART: 'all' (specs that say autostart), 'none', or a list of names."""
        choice = self.autostart.strip().lower()
        if choice == "all":
            return spec_autostart
        if choice == "none":
            return False
        return name in {n.strip() for n in choice.split(",")}


def api_keys(s: Settings) -> dict[str, str]:
    """STREAMER_API_KEYS_FILE (KEY=value lines, git-ignored, 0600), if it exists: the API
    keys that http sources' headers name, kept out of the repo and of settings.env."""
    name = s.str("STREAMER_API_KEYS_FILE")
    path = s.path("STREAMER_API_KEYS_FILE") if name else None
    return parse_env_file(path) if path is not None and path.is_file() else {}
