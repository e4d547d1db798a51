"""The real HDFS of Hadoop (one NameNode, one DataNode) as local processes on 127.0.0.1.

The daemons run from the hadoop image's jars (images/hadoop/pom.xml, see harness.jars) with a
generated core-site.xml / hdfs-site.xml in `<workdir>/conf`, every port a free loopback port.
Each JVM is its own process group, killed at interpreter exit, and by the kernel if the
interpreter dies first. Ports and data survive stop() + start().

    with HdfsCluster(resolve_jars("hadoop")) as hdfs:
        hdfs.mkdir("/raw")
        hdfs.put_bytes("/raw/a.txt", b"hello")
        assert hdfs.read_bytes("/raw/a.txt") == b"hello"
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from xml.sax.saxutils import escape

from harness import process
from streamlab.waiting import TimedOut, wait_for

HOST = process.HOST
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
FORMAT_TIMEOUT_S = 120.0
FS_TIMEOUT_S = 120.0
LOG_TAIL_LINES = 40
# The daemons log their whole classpath (~20 kB) on one line at start-up.
LOG_LINE_MAX_CHARS = 1000
# A free port picked here may be taken by another process before the daemon binds it:
# then start over on new ports, at most this many times in all.
BIND_ATTEMPTS = 3
POLL_INTERVAL_S = 0.25

NAMENODE_CLASS = "org.apache.hadoop.hdfs.server.namenode.NameNode"
DATANODE_CLASS = "org.apache.hadoop.hdfs.server.datanode.DataNode"
FS_SHELL_CLASS = "org.apache.hadoop.fs.FsShell"
NAMENODE_STATE_JMX = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"

NAMENODE_HEAP = "384m"
DATANODE_HEAP = "256m"
CLIENT_HEAP = "256m"

# Hadoop 3.4.1 predates Java 17 support in its launch scripts: the list below is the one
# Hadoop itself adds on Java 17+ (HADOOP-19310, hadoop-functions.sh, merged after 3.4.1).
# HDFS runs without them; YARN's Guice (NodeManager and ResourceManager web apps) fails with
# InaccessibleObjectException on java.lang. Same flags everywhere, as the image uses them.
JAVA17_OPENS = tuple(
    f"--add-opens=java.base/{package}=ALL-UNNAMED"
    for package in (
        "java.io",
        "java.lang",
        "java.lang.reflect",
        "java.math",
        "java.net",
        "java.text",
        "java.util",
        "java.util.concurrent",
        "java.util.zip",
        "sun.security.util",
        "sun.security.x509",
    )
)
JVM_FLAGS = (
    *JAVA17_OPENS,
    # Hadoop's launcher default (HADOOP_OPTS); the daemons bind IPv4 loopback only.
    "-Djava.net.preferIPv4Stack=true",
    # C1 only: measured on 2 cores, the cluster is up in ~6 s instead of ~10 s and each
    # daemon holds ~40 MB less; test loads never need C2's peak speed. (SerialGC was
    # slower to start and used more memory than the default G1 here.)
    "-XX:TieredStopAtLevel=1",
)

# Like Hadoop's conf/log4j.properties (console appender, root logger set by a system
# property), minus the per-JVM noise that says nothing about the test.
LOG4J_PROPERTIES = """\
hadoop.root.logger=INFO,console
log4j.rootLogger=${hadoop.root.logger}
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
# "Unable to load native-hadoop library": expected, the pure-Java code paths are used.
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
"""
# Present but empty: the daemons then stop warning that they cannot find it.
METRICS2_PROPERTIES = "# no metrics sinks\n"

# Loopback requests must never go through an http_proxy of the environment.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HdfsError(RuntimeError):
    """HDFS did not start, stop or answer; the message carries the end of the daemon's log."""


@dataclass(frozen=True)
class HdfsPorts:
    namenode_rpc: int
    namenode_http: int
    datanode: int
    datanode_ipc: int
    datanode_http: int

    @classmethod
    def pick(cls) -> HdfsPorts:
        return cls(*process.free_ports(5))


def hdfs_site(workdir: Path, ports: HdfsPorts) -> dict[str, str]:
    """The hdfs-site.xml of a one-DataNode cluster on loopback."""
    return {
        "dfs.replication": "1",
        "dfs.namenode.name.dir": (workdir / "name").as_uri(),
        "dfs.datanode.data.dir": (workdir / "data").as_uri(),
        "dfs.namenode.rpc-address": f"{HOST}:{ports.namenode_rpc}",
        "dfs.namenode.http-address": f"{HOST}:{ports.namenode_http}",
        "dfs.datanode.address": f"{HOST}:{ports.datanode}",
        "dfs.datanode.ipc.address": f"{HOST}:{ports.datanode_ipc}",
        "dfs.datanode.http.address": f"{HOST}:{ports.datanode_http}",
        # Not served (HTTP only, no secondary NameNode), but never let a default port in.
        "dfs.namenode.https-address": f"{HOST}:0",
        "dfs.datanode.https.address": f"{HOST}:0",
        "dfs.namenode.secondary.http-address": f"{HOST}:0",
        "dfs.namenode.secondary.https-address": f"{HOST}:0",
        # The DataNode names itself by this address to the NameNode, which hands it to
        # clients and to WebHDFS redirects; the machine's hostname may resolve elsewhere.
        "dfs.datanode.hostname": HOST,
        # The NameNode otherwise rejects a DataNode whose IP does not reverse-resolve.
        "dfs.namenode.datanode.registration.ip-hostname-check": "false",
        # Default 30 s of safe mode after the block threshold is met: nothing to wait for.
        "dfs.namenode.safemode.extension": "0",
        # The NameNode learns the DataNode's capacity at its first heartbeat: make it soon.
        "dfs.heartbeat.interval": "1",
        # Tests write as the OS user, Spark's user and WebHDFS's anonymous dr.who alike.
        "dfs.permissions.enabled": "false",
        # One DataNode: there is none to swap into a failing write pipeline.
        "dfs.client.block.write.replace-datanode-on-failure.enable": "false",
    }


def core_site(workdir: Path, ports: HdfsPorts) -> dict[str, str]:
    return {
        "fs.defaultFS": f"hdfs://{HOST}:{ports.namenode_rpc}",
        "hadoop.tmp.dir": str(workdir / "tmp"),
    }


def site_xml(properties: Mapping[str, str]) -> str:
    entries = "".join(
        f"  <property><name>{escape(name)}</name><value>{escape(value)}</value></property>\n"
        for name, value in properties.items()
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{entries}</configuration>\n'


class Daemon:
    """One Hadoop JVM in its own process group, its console output in `log`."""

    def __init__(self, name: str, main_class: str, heap: str, log: Path) -> None:
        self.name = name
        self.main_class = main_class
        self.heap = heap
        self.log = log
        self.process = process.GroupProcess()
        self._log_start = 0

    @property
    def running(self) -> bool:
        return self.process.running

    @property
    def pid(self) -> int | None:
        return self.process.popen.pid if self.process.popen else None

    def spawn(self, classpath: str, env: Mapping[str, str], cwd: Path) -> None:
        command = java_command(classpath, self.heap, self.main_class, f"-Dproc_{self.name}")
        self._log_start = self.process.spawn(command, self.log, cwd, env)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (shutdown hooks run), SIGKILL if that takes longer than timeout."""
        self.process.stop(timeout)

    def kill(self) -> None:
        self.process.kill()

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        text = process.tail(self.log, lines, LOG_LINE_MAX_CHARS) or "(empty)"
        return f"--- last {lines} lines of the {self.name} log {self.log} ---\n{text}"

    def output_since_spawn(self) -> str:
        with self.log.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")


class DaemonCluster:
    """Daemons sharing a work folder (made here when none is given, deleted on close).

    Subclasses list their daemons in stop order in `daemons` (workers first, so none
    retries a master that is gone) and implement start(), which __enter__ calls.
    """

    def __init__(self, workdir: Path | None, prefix: str) -> None:
        self._owns_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=prefix))

    @property
    def daemons(self) -> tuple[Daemon, ...]:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return all(daemon.running for daemon in self.daemons)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Graceful stop, in the order of `daemons`."""
        for daemon in self.daemons:
            daemon.stop(timeout)

    def kill(self) -> None:
        for daemon in self.daemons:
            daemon.kill()

    def close(self) -> None:
        """Stop, and delete the work folder if this cluster made it."""
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class HdfsCluster(DaemonCluster):
    """A NameNode and a DataNode on free 127.0.0.1 ports, config and data in `workdir`.

    extra_config is merged into hdfs-site.xml (read by the daemons and by run_fs clients).
    """

    def __init__(
        self,
        jars: Path,
        workdir: Path | None = None,
        *,
        extra_config: Mapping[str, str] | None = None,
        namenode_heap: str = NAMENODE_HEAP,
        datanode_heap: str = DATANODE_HEAP,
        client_heap: str = CLIENT_HEAP,
    ) -> None:
        super().__init__(workdir, "streamlab-hdfs-")
        self.jars = jars
        self.extra_config = dict(extra_config or {})
        self.client_heap = client_heap
        self.ports: HdfsPorts | None = None
        logs = self.workdir / "logs"
        self.namenode = Daemon("namenode", NAMENODE_CLASS, namenode_heap, logs / "namenode.log")
        self.datanode = Daemon("datanode", DATANODE_CLASS, datanode_heap, logs / "datanode.log")

    # -- addresses -----------------------------------------------------------------------

    @property
    def conf_dir(self) -> Path:
        """core-site.xml and hdfs-site.xml: point HADOOP_CONF_DIR (or a classpath) here."""
        return self.workdir / "conf"

    @property
    def uri(self) -> str:
        return f"hdfs://{HOST}:{self._ports.namenode_rpc}"

    @property
    def namenode_http_url(self) -> str:
        return f"http://{HOST}:{self._ports.namenode_http}"

    @property
    def webhdfs_url(self) -> str:
        """The WebHDFS REST root: f"{webhdfs_url}/path?op=LISTSTATUS"."""
        return f"{self.namenode_http_url}/webhdfs/v1"

    @property
    def classpath(self) -> str:
        # The conf folder first: its site files and log4j.properties win over any jar's.
        return f"{self.conf_dir}{os.pathsep}{self.jars}/*"

    @property
    def daemons(self) -> tuple[Daemon, ...]:
        return (self.datanode, self.namenode)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT_S, *, attempts: int = BIND_ATTEMPTS) -> Self:
        """Format on first use, start both daemons, wait until HDFS takes writes."""
        if self.running:
            return self
        self.ports = self.ports or HdfsPorts.pick()
        self._write_config()
        self._format_once()
        try:
            self._start_daemons(timeout)
        except HdfsError:
            self.kill()
            if attempts <= 1 or not self._lost_a_port():
                raise
            self.ports = None  # another process took a port since we picked it
            return self.start(timeout, attempts=attempts - 1)
        return self

    # -- state ---------------------------------------------------------------------------

    def namenode_state(self) -> dict[str, Any]:
        """The NameNode's FSNamesystemState JMX bean (FSState, NumLiveDataNodes, ...)."""
        beans = json.loads(http_get(self.namenode_http_url + NAMENODE_STATE_JMX))["beans"]
        if not beans:
            raise HdfsError("the NameNode has no FSNamesystemState bean yet")
        return beans[0]

    def live_datanodes(self) -> int:
        return int(self.namenode_state()["NumLiveDataNodes"])

    # -- hdfs dfs ------------------------------------------------------------------------

    def run_fs(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        timeout: float = FS_TIMEOUT_S,
    ) -> subprocess.CompletedProcess[bytes]:
        """`hdfs dfs ARGS...` (FsShell) against this cluster; stdout and stderr as bytes."""
        command = java_command(
            self.classpath,
            self.client_heap,
            FS_SHELL_CLASS,
            "-Dhadoop.root.logger=WARN,console",
        )
        result = subprocess.run(
            [*process.parent_death_guard(), *command, *args],
            input=input,
            capture_output=True,
            env=self._env(),
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            stderr = result.stderr.decode(errors="replace").strip()
            raise HdfsError(
                f"hdfs dfs {' '.join(args)} failed (exit {result.returncode}):\n{stderr}"
            )
        return result

    def ls(self, path: str) -> list[str]:
        """Paths of path's children (or path itself, if a file), as `hdfs dfs -ls -C`."""
        return self.run_fs("-ls", "-C", path).stdout.decode().splitlines()

    def mkdir(self, path: str) -> None:
        """mkdir -p."""
        self.run_fs("-mkdir", "-p", path)

    def put_bytes(self, path: str, data: bytes) -> None:
        """Write data to path, replacing any file there."""
        self.run_fs("-put", "-f", "-", path, input=data)

    def read_bytes(self, path: str) -> bytes:
        return self.run_fs("-cat", path).stdout

    # -- internals -----------------------------------------------------------------------

    @property
    def _ports(self) -> HdfsPorts:
        if self.ports is None:
            raise HdfsError("the cluster has no ports yet: call start() first")
        return self.ports

    def _write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for folder in ("logs", "tmp"):
            (self.workdir / folder).mkdir(exist_ok=True)
        hdfs = {**hdfs_site(self.workdir, self._ports), **self.extra_config}
        (self.conf_dir / "core-site.xml").write_text(site_xml(core_site(self.workdir, self._ports)))
        (self.conf_dir / "hdfs-site.xml").write_text(site_xml(hdfs))
        (self.conf_dir / "log4j.properties").write_text(LOG4J_PROPERTIES)
        (self.conf_dir / "hadoop-metrics2.properties").write_text(METRICS2_PROPERTIES)

    def _format_once(self) -> None:
        if (self.workdir / "name" / "current" / "VERSION").is_file():
            return  # formatted before: keep the data across restarts
        log = self.workdir / "logs" / "format.log"
        command = java_command(self.classpath, self.namenode.heap, NAMENODE_CLASS)
        with log.open("ab") as out:
            result = subprocess.run(
                [*process.parent_death_guard(), *command, "-format", "-nonInteractive"],
                cwd=self.workdir,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=FORMAT_TIMEOUT_S,
                check=False,
            )
        if result.returncode != 0:
            tail = process.tail(log, LOG_TAIL_LINES, LOG_LINE_MAX_CHARS)
            raise HdfsError(f"NameNode -format failed (exit {result.returncode}):\n{tail}")

    def _start_daemons(self, timeout: float) -> None:
        for daemon in (self.namenode, self.datanode):
            daemon.spawn(self.classpath, self._env(), self.workdir)

        def ready() -> bool:
            self._check_alive()
            return self._ready()

        try:
            wait_for(ready, "HDFS", timeout, interval_s=POLL_INTERVAL_S)
        except TimedOut:
            raise self._timeout_error(timeout) from None

    def _ready(self) -> bool:
        """Out of safe mode, with one live DataNode whose capacity the NameNode knows."""
        try:
            state = self.namenode_state()
        except (OSError, ValueError, KeyError, HdfsError):
            return False
        return (
            state.get("FSState") == "Operational"
            and state.get("NumLiveDataNodes", 0) >= 1
            and state.get("CapacityRemaining", 0) > 0
        )

    def _check_alive(self) -> None:
        for daemon in (self.namenode, self.datanode):
            if not daemon.running:
                code = daemon.process.returncode
                raise HdfsError(f"the {daemon.name} exited with code {code}\n{daemon.tail()}")

    def _timeout_error(self, timeout: float) -> HdfsError:
        try:
            state = self.namenode_state()
        except (OSError, ValueError, KeyError, HdfsError) as error:
            what, culprit = f"the NameNode's JMX ({error})", self.namenode
        else:
            what = (
                f"the NameNode to leave safe mode and report a live DataNode "
                f"(FSState={state.get('FSState')}, NumLiveDataNodes="
                f"{state.get('NumLiveDataNodes')}, CapacityRemaining="
                f"{state.get('CapacityRemaining')})"
            )
            safe_mode = state.get("FSState") != "Operational"
            culprit = self.namenode if safe_mode else self.datanode
        return HdfsError(f"timed out after {timeout:.0f}s waiting for {what}\n{culprit.tail()}")

    def _lost_a_port(self) -> bool:
        daemons = (self.namenode, self.datanode)
        return any("BindException" in daemon.output_since_spawn() for daemon in daemons)

    def _env(self) -> dict[str, str]:
        # The JVMs read the config from the classpath; this is for anything that looks for
        # it by the usual variable instead, which must not name the caller's own cluster.
        return {**os.environ, "HADOOP_CONF_DIR": str(self.conf_dir)}


def java_command(classpath: str, heap: str, main_class: str, *flags: str) -> list[str]:
    java = process.java_executable()
    if java is None:
        raise HdfsError("java is not installed: run ./tests/run.sh")
    return [
        java,
        f"-Xmx{heap}",
        *JVM_FLAGS,
        *flags,
        "-cp",
        classpath,
        main_class,
    ]


def http_get(url: str, timeout: float = 10.0) -> bytes:
    """GET without proxies, following redirects (WebHDFS sends reads on to the DataNode)."""
    with _http.open(url, timeout=timeout) as response:
        return response.read()
