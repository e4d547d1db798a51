"""The Spark standalone master's /json/ (lite profile): workers alive, cores, memory, apps."""

from __future__ import annotations

from typing import Any

from ..points import Point

PATH = "/json/"


def master_points(data: dict[str, Any]) -> list[Point]:
    alive = [w for w in data["workers"] if w["state"] == "ALIVE"]
    fields = {
        "workers_alive": len(alive),
        "cores_total": sum(int(w["cores"]) for w in alive),
        "cores_used": sum(int(w["coresused"]) for w in alive),
        "memory_total_mb": sum(int(w["memory"]) for w in alive),
        "memory_used_mb": sum(int(w["memoryused"]) for w in alive),
        "apps_running": len(data["activeapps"]),
    }
    return [Point("spark_standalone", {}, fields)]
