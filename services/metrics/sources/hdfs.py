"""The NameNode's JMX: capacity and DataNodes from the FSNamesystemState bean."""

from __future__ import annotations

from typing import Any

from ..points import Point

PATH = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"
# Our field <- the bean's attribute.
FIELDS = {
    "capacity_total_bytes": "CapacityTotal",
    "capacity_used_bytes": "CapacityUsed",
    "capacity_remaining_bytes": "CapacityRemaining",
    "live_datanodes": "NumLiveDataNodes",
    "dead_datanodes": "NumDeadDataNodes",
}


def namenode_points(data: dict[str, Any]) -> list[Point]:
    beans = data["beans"]
    if not beans:
        # A NameNode still starting has no such bean yet.
        raise ValueError("the NameNode has no FSNamesystemState bean (still starting?)")
    bean = beans[0]
    return [Point("hdfs_cluster", {}, {name: int(bean[key]) for name, key in FIELDS.items()})]
