"""The full profile's scale (tests/e2e/run.sh: 2 NodeManagers, 2 DataNodes): every replica
registered under a name the others resolve, its own state folder, blocks replicated
min(3, DataNodes) times."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import requests
from stack import ROOT, Stack, log, wait_for

from streamlab.settings import parse_env_file


@pytest.fixture(scope="module")
def scale(stack: Stack) -> dict[str, int]:
    if stack.profile != "full":
        pytest.skip("lite scales SPARK_WORKERS (test_stack checks them)")
    values = parse_env_file(ROOT / ".secrets" / "scale.env")
    return {key: int(values[key]) for key in ("YARN_NODEMANAGERS", "HDFS_DATANODES")}


def _replicas(stack: Stack, service: str) -> list[str]:
    return sorted(
        c["Name"] for c in stack.containers() if c["Service"] == service and c["State"] == "running"
    )


def test_each_nodemanager_is_a_running_yarn_node(stack: Stack, scale: dict[str, int]) -> None:
    containers = _replicas(stack, "nodemanager")
    reply = requests.get(f"{stack.url('YARN_RESOURCEMANAGER_HTTP_PORT')}/ws/v1/cluster/nodes",
                         timeout=10).json()  # fmt: skip
    nodes = [n for n in reply["nodes"]["node"] if n["state"] == "RUNNING"]
    log(f"nodemanager containers {containers}; YARN nodes "
        f"{[(n['id'], n['availMemoryMB'] + n['usedMemoryMB']) for n in nodes]}")  # fmt: skip
    assert len(containers) == len(nodes) == scale["YARN_NODEMANAGERS"]
    assert len({n["nodeHostName"] for n in nodes}) == len(nodes)
    for node in nodes:  # each node's name is one every container resolves (Docker's DNS)
        stack.exec_bytes("resourcemanager", "getent", "hosts", node["nodeHostName"])


def test_each_datanode_is_live_under_its_container_name(
    stack: Stack, scale: dict[str, int]
) -> None:
    containers = _replicas(stack, "datanode")
    jmx = requests.get(
        f"{stack.url('HDFS_NAMENODE_HTTP_PORT')}/jmx",
        params={"qry": "Hadoop:service=NameNode,name=NameNodeInfo"}, timeout=10,
    ).json()["beans"][0]  # fmt: skip
    live = {name.rsplit(":", 1)[0]: info for name, info in json.loads(jmx["LiveNodes"]).items()}
    log(f"datanode containers {containers}; live datanodes {sorted(live)}")
    assert len(containers) == len(live) == scale["HDFS_DATANODES"]
    assert sorted(live) == containers  # registered under the container's name
    uuids = set()
    for container in containers:  # its own folder of the shared volume, its own storage
        folder = f"/var/lib/hadoop/data/{container}"
        assert f"<value>file://{folder}</value>" in _in(
            container, "cat", "/etc/hadoop/hdfs-site.xml"
        )
        version = _in(container, "cat", f"{folder}/current/VERSION")
        uuids.add(re.search(r"datanodeUuid=(\S+)", version).group(1))
    assert len(uuids) == len(containers)


def _in(container: str, *command: str) -> str:
    return subprocess.run(
        ["docker", "exec", container, *command], capture_output=True, text=True, check=True
    ).stdout


def test_blocks_are_replicated_min_3_datanodes_times(stack: Stack, scale: dict[str, int]) -> None:
    """Every block of the raw layer gets min(3, DataNodes) replicas. A block whose write
    pipeline lost a DataNode under load is short of one for a moment, until the NameNode
    copies it again (seen once in CI: 1 block of about 125): the count is awaited."""
    wanted = min(3, scale["HDFS_DATANODES"])

    def replication() -> tuple[int, float, int] | None:
        report = stack.exec_bytes("namenode", "hdfs", "fsck", "/streamlab/raw").decode()
        found = [
            re.search(rf"{label}:\s+([\d.]+)", report).group(1)
            for label in ("Default replication factor", "Average block replication",
                          "Under-replicated blocks")
        ]  # fmt: skip
        factor, average, under = int(found[0]), float(found[1]), int(found[2])
        log(f"fsck /streamlab/raw: default {factor}, average {average}, "
            f"under-replicated {under}; wanted {wanted}")  # fmt: skip
        return (factor, average, under) if under == 0 else None

    factor, average, _ = wait_for(
        "no under-replicated block in the raw layer", replication, 600, every=5
    )
    assert factor == wanted
    assert average == pytest.approx(wanted)
