"""The four steps in their order, each called with its own part of the configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from streamlab.specs import DatasetSpec

from .config import ProvisionConfig
from .grafana import provision_grafana
from .hdfs_dirs import provision_dirs
from .influx import provision_influx
from .kafka_topics import provision_topics
from .report import Report

Step = Callable[[ProvisionConfig, Mapping[str, DatasetSpec], Report], None]

STEPS: dict[str, Step] = {
    "kafka": lambda c, specs, r: provision_topics(c.kafka, specs, r, c.wait_s),
    "hdfs": lambda c, specs, r: provision_dirs(c.hdfs, r, c.wait_s),
    "influxdb": lambda c, specs, r: provision_influx(c.influx, r, c.wait_s),
    "grafana": lambda c, specs, r: provision_grafana(c.grafana, specs, r, c.wait_s),
}


def run_steps(
    config: ProvisionConfig,
    specs: Mapping[str, DatasetSpec],
    report: Report,
    only: Sequence[str] = tuple(STEPS),
) -> None:
    """Runs the chosen steps in STEPS order; the first ProvisionError stops the run."""
    for name, step in STEPS.items():
        if name in only:
            step(config, specs, report)
