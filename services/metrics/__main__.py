"""python -m metrics: poll the stack every METRICS_INTERVAL_S and write the pipeline bucket."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Mapping

from streamlab.influx import InfluxTarget, read_token
from streamlab.settings import Settings, SettingsError
from streamlab.specs import DatasetSpec, SpecError, load_specs

from .collector import Collector
from .config import MetricsConfig
from .sources.build import build_sources
from .writer import PipelineWriter


def build_collector(
    config: MetricsConfig, specs: Mapping[str, DatasetSpec], token: str
) -> Collector:
    target = InfluxTarget(
        config.influx_url, config.influx_org, config.pipeline_bucket, token,
        batch_size=config.influx_batch_size, timeout_ms=int(config.timeout_s * 1000),
    )  # fmt: skip
    return Collector(
        build_sources(config, specs),
        PipelineWriter(target),
        interval_s=config.interval_s,
        timeout_s=config.timeout_s,
        heartbeat_file=config.heartbeat_file,
    )


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kafka-python logs every failed reconnect at ERROR; a broker down is our own warning.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        settings = Settings.load()
        config = MetricsConfig.from_settings(settings)
        # The Kafka source reads the dataset topics from the specs.
        specs = load_specs(config.datasets_dir, settings.values) if config.kafka_bootstrap else {}
        token = read_token(config.token_file)
        collector = build_collector(config, specs, token)
    except (SettingsError, SpecError, RuntimeError) as error:
        print(f"metrics: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        collector.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
