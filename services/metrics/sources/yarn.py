"""The YARN ResourceManager's REST /ws/v1/cluster/metrics."""

from __future__ import annotations

from typing import Any

from ..points import Point

PATH = "/ws/v1/cluster/metrics"
# Our field <- the ResourceManager's clusterMetrics key.
FIELDS = {
    "memory_used_mb": "allocatedMB",
    "memory_total_mb": "totalMB",
    "vcores_used": "allocatedVirtualCores",
    "vcores_total": "totalVirtualCores",
    "apps_running": "appsRunning",
    "apps_pending": "appsPending",
    "nodes_active": "activeNodes",
}


def cluster_points(data: dict[str, Any]) -> list[Point]:
    metrics = data["clusterMetrics"]
    return [Point("yarn_cluster", {}, {name: int(metrics[key]) for name, key in FIELDS.items()})]
