"""The real YARN of Hadoop (a ResourceManager and a NodeManager) as local processes on 127.0.0.1.

The daemons run from the hadoop image's jars (images/hadoop/pom.xml, see harness.jars) like
harness.hdfs runs HDFS: generated site files in `<workdir>/conf`, every port a free loopback
port, each JVM its own process group. The NodeManager registers, so the ResourceManager
reports one active node with its memory and vcores.

    with YarnCluster(resolve_jars("hadoop")) as yarn:
        assert yarn.cluster_metrics()["activeNodes"] == 1
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from harness import process
from harness.hdfs import (
    LOG4J_PROPERTIES,
    METRICS2_PROPERTIES,
    POLL_INTERVAL_S,
    Daemon,
    DaemonCluster,
    http_get,
    site_xml,
)
from streamlab.waiting import NotYet, TimedOut, wait_for

HOST = process.HOST
START_TIMEOUT_S = 120.0
RESOURCEMANAGER_CLASS = "org.apache.hadoop.yarn.server.resourcemanager.ResourceManager"
NODEMANAGER_CLASS = "org.apache.hadoop.yarn.server.nodemanager.NodeManager"
CLUSTER_METRICS = "/ws/v1/cluster/metrics"
RESOURCEMANAGER_HEAP = "384m"
NODEMANAGER_HEAP = "256m"
# What the NodeManager offers: small, nothing runs containers in these tests.
NODE_MEMORY_MB = 1024
NODE_VCORES = 2


class YarnError(RuntimeError):
    """YARN did not start or answer; the message carries the end of the daemon's log."""


@dataclass(frozen=True)
class YarnPorts:
    resourcemanager: int
    scheduler: int
    resource_tracker: int
    admin: int
    resourcemanager_web: int
    nodemanager: int
    localizer: int
    nodemanager_web: int

    @classmethod
    def pick(cls) -> YarnPorts:
        return cls(*process.free_ports(8))


def yarn_site(workdir: Path, ports: YarnPorts) -> dict[str, str]:
    """The yarn-site.xml of a one-NodeManager cluster on loopback."""
    rm = f"{HOST}:"
    return {
        "yarn.resourcemanager.hostname": HOST,
        "yarn.resourcemanager.address": f"{rm}{ports.resourcemanager}",
        "yarn.resourcemanager.scheduler.address": f"{rm}{ports.scheduler}",
        "yarn.resourcemanager.resource-tracker.address": f"{rm}{ports.resource_tracker}",
        "yarn.resourcemanager.admin.address": f"{rm}{ports.admin}",
        "yarn.resourcemanager.webapp.address": f"{rm}{ports.resourcemanager_web}",
        "yarn.resourcemanager.webapp.https.address": f"{HOST}:0",
        "yarn.nodemanager.hostname": HOST,
        "yarn.nodemanager.address": f"{HOST}:{ports.nodemanager}",
        "yarn.nodemanager.localizer.address": f"{HOST}:{ports.localizer}",
        "yarn.nodemanager.webapp.address": f"{HOST}:{ports.nodemanager_web}",
        "yarn.nodemanager.webapp.https.address": f"{HOST}:0",
        "yarn.nodemanager.resource.memory-mb": str(NODE_MEMORY_MB),
        "yarn.nodemanager.resource.cpu-vcores": str(NODE_VCORES),
        "yarn.nodemanager.resource.detect-hardware-capabilities": "false",
        "yarn.nodemanager.local-dirs": str(workdir / "nm-local"),
        "yarn.nodemanager.log-dirs": str(workdir / "nm-logs"),
        # A test machine's disk may be fuller than the 90 % at which a node turns unhealthy.
        "yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage": "99.9",
        # The first heartbeat registers the node: make the ResourceManager see it soon.
        "yarn.resourcemanager.nodemanagers.heartbeat-interval-ms": "500",
        "yarn.timeline-service.enabled": "false",
        "yarn.log-aggregation-enable": "false",
    }


def capacity_scheduler() -> dict[str, str]:
    """One queue, as the hadoop image configures it."""
    return {
        "yarn.scheduler.capacity.root.queues": "default",
        "yarn.scheduler.capacity.root.default.capacity": "100",
        "yarn.scheduler.capacity.root.default.maximum-capacity": "100",
    }


class YarnCluster(DaemonCluster):
    """A ResourceManager and a NodeManager on free 127.0.0.1 ports, config in `workdir`."""

    def __init__(self, jars: Path, workdir: Path | None = None) -> None:
        super().__init__(workdir, "streamlab-yarn-")
        self.jars = jars
        self.ports: YarnPorts | None = None
        logs = self.workdir / "logs"
        self.resourcemanager = Daemon(
            "resourcemanager", RESOURCEMANAGER_CLASS, RESOURCEMANAGER_HEAP,
            logs / "resourcemanager.log",
        )  # fmt: skip
        self.nodemanager = Daemon(
            "nodemanager", NODEMANAGER_CLASS, NODEMANAGER_HEAP, logs / "nodemanager.log"
        )

    @property
    def conf_dir(self) -> Path:
        return self.workdir / "conf"

    @property
    def url(self) -> str:
        """The ResourceManager's web address (REST under /ws/v1)."""
        if self.ports is None:
            raise YarnError("the cluster has no ports yet: call start() first")
        return f"http://{HOST}:{self.ports.resourcemanager_web}"

    @property
    def daemons(self) -> tuple[Daemon, ...]:
        return (self.nodemanager, self.resourcemanager)

    def start(self, timeout: float = START_TIMEOUT_S) -> Self:
        """Start both daemons; wait until the ResourceManager counts the node as active."""
        if self.running:
            return self
        self.ports = self.ports or YarnPorts.pick()
        self._write_config()
        classpath = f"{self.conf_dir}{os.pathsep}{self.jars}/*"
        env = {**os.environ, "HADOOP_CONF_DIR": str(self.conf_dir)}
        for daemon in (self.resourcemanager, self.nodemanager):
            daemon.spawn(classpath, env, self.workdir)
        try:
            self._wait_ready(timeout)
        except YarnError:
            self.kill()
            raise
        return self

    def cluster_metrics(self) -> dict[str, Any]:
        """The ResourceManager's clusterMetrics (activeNodes, totalMB, appsRunning, ...)."""
        return json.loads(http_get(self.url + CLUSTER_METRICS))["clusterMetrics"]

    def _write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for folder in ("logs", "tmp", "nm-local", "nm-logs"):
            (self.workdir / folder).mkdir(exist_ok=True)
        core = {"fs.defaultFS": "file:///", "hadoop.tmp.dir": str(self.workdir / "tmp")}
        files = {
            "core-site.xml": site_xml(core),
            "yarn-site.xml": site_xml(yarn_site(self.workdir, self.ports)),
            "capacity-scheduler.xml": site_xml(capacity_scheduler()),
            "log4j.properties": LOG4J_PROPERTIES,
            "hadoop-metrics2.properties": METRICS2_PROPERTIES,
        }
        for name, text in files.items():
            (self.conf_dir / name).write_text(text)

    def _wait_ready(self, timeout: float) -> None:
        def active() -> bool:
            for daemon in (self.resourcemanager, self.nodemanager):
                if not daemon.running:
                    code = daemon.process.returncode
                    raise YarnError(f"the {daemon.name} exited with code {code}\n{daemon.tail()}")
            try:
                nodes = self.cluster_metrics().get("activeNodes", 0)
            except (OSError, ValueError, KeyError) as error:
                raise NotYet(error) from None
            if nodes < 1:
                raise NotYet(f"activeNodes={nodes}")
            return True

        try:
            wait_for(active, "an active NodeManager", timeout, interval_s=POLL_INTERVAL_S)
        except TimedOut as error:
            culprit = self.nodemanager if "activeNodes" in str(error.last) else self.resourcemanager
            raise YarnError(f"{error}\n{culprit.tail()}") from None
