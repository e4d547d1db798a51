"""What every API module works with: the state, the counters and the configuration."""

from __future__ import annotations

from dataclasses import dataclass

from .config import DoubleConfig
from .stats import Stats
from .store import Store


@dataclass(frozen=True)
class Context:
    store: Store
    stats: Stats
    config: DoubleConfig
    started_ns: int

    @property
    def version(self) -> str:
        """The version string InfluxDB reports (v2.7.12)."""
        version = self.config.version
        return version if version.startswith("v") else f"v{version}"
