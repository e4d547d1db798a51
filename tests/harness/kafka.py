"""The real ZooKeeper and Kafka (ZooKeeper mode) as local processes on 127.0.0.1.

Each server is one JVM started from the kafka image's jars (see harness.jars) with a generated
config, in its own work folder and process group. Ports are chosen free at the first start and
kept, together with the data folders, across restarts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Self

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from harness import process
from streamlab.waiting import TimedOut, wait_for

HOST = process.HOST
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
LOG_TAIL_LINES = 40
# Kafka's own launcher flags (kafka-run-class.sh), with a heap fit for a test machine.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
)
# Short enough that a broker restarted after kill() waits little for its old ZooKeeper
# session (and so its /brokers/ids entry) to expire; long enough for GC pauses on 2 cores.
ZK_SESSION_TIMEOUT_MS = 6000
# Kafka's config/tools-log4j.properties: CLI tools print warnings to stderr, nothing else.
TOOLS_LOG4J = """\
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stderr.Target=System.err
"""


class ServerError(RuntimeError):
    """A server did not start or stop; the message carries the end of its logs."""


class JavaServer(process.LocalServer):
    """One JVM server in its own process group, with its config and logs in `workdir`."""

    name = "java"
    main_class = ""

    def __init__(self, jars: Path, workdir: Path | None = None, heap: str = "512m") -> None:
        super().__init__(workdir, f"streamlab-{self.name}-")
        self.jars = jars
        self.heap = heap
        self.port = 0
        self._process = process.GroupProcess()

    # -- subclass hooks ------------------------------------------------------------------

    def _write_config(self) -> list[str]:
        """Write the config files; return the main class's arguments."""
        raise NotImplementedError

    def _probe(self) -> bool:
        """True once the server answers requests."""
        raise NotImplementedError

    def _before_start(self) -> None:
        """Wait for anything a clean start needs."""

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def server_log(self) -> Path:
        return self.workdir / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.workdir / "stdout.log"

    def start(self, timeout: float = READY_TIMEOUT_S) -> Self:
        if self.running:
            return self
        self.port = self.port or free_port()
        self._before_start()
        self._spawn(self._write_config())
        try:
            wait_until(self._probe, timeout, f"{self.name} on port {self.port}", self._check_alive)
        except ServerError as error:
            self.kill()
            raise ServerError(f"{error}\n{self.log_tail()}") from None
        return self

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Graceful stop (SIGTERM); SIGKILL if it takes longer than timeout."""
        self._process.stop(timeout)

    def kill(self) -> None:
        """Crash-like stop: SIGKILL, no shutdown hooks."""
        self._process.kill()

    def restart(self, timeout: float = READY_TIMEOUT_S) -> Self:
        """Same port, same data, same identity."""
        self.stop()
        return self.start(timeout)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        parts = []
        for log in (self.server_log, self.stdout_log):
            tail = process.tail(log, lines)
            if tail:
                parts.append(f"--- last {lines} lines of {log} ---\n{tail}")
        return "\n".join(parts) or f"(no output in {self.workdir})"

    # -- internals -----------------------------------------------------------------------

    def _java_command(self, args: list[str]) -> list[str]:
        return [
            java_executable(),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *JVM_FLAGS,
            f"-Dlog4j.configuration={self._write_log4j().as_uri()}",
            "-cp",
            f"{self.jars}/*",
            self.main_class,
            *args,
        ]

    def _spawn(self, args: list[str]) -> None:
        self._process.spawn(self._java_command(args), self.stdout_log, self.workdir)

    def _write_log4j(self) -> Path:
        path = self.workdir / "log4j.properties"
        path.write_text(
            "log4j.rootLogger=INFO, file\n"
            "log4j.appender.file=org.apache.log4j.FileAppender\n"
            f"log4j.appender.file.File={self.server_log}\n"
            "log4j.appender.file.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
            "log4j.logger.kafka.request.logger=WARN\n"
            "log4j.logger.state.change.logger=WARN\n"
        )
        return path

    def _check_alive(self) -> None:
        if not self.running:
            code = self._process.returncode
            raise ServerError(f"{self.name} exited with code {code} while starting")


class ZooKeeperServer(JavaServer):
    """A standalone ZooKeeper (QuorumPeerMain with a generated zoo.cfg)."""

    name = "zookeeper"
    main_class = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

    @property
    def connect(self) -> str:
        return f"{HOST}:{self.port}"

    def four_letter(self, command: str, timeout: float = 5.0) -> str:
        """A ZooKeeper four-letter-word command (srvr, dump, ...) and its answer."""
        with socket.create_connection((HOST, self.port), timeout=timeout) as conn:
            conn.sendall(command.encode())
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    def has_ephemeral(self, path: str) -> bool:
        return any(line.strip() == path for line in self.four_letter("dump").splitlines())

    def _write_config(self) -> list[str]:
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        config = self.workdir / "zoo.cfg"
        config.write_text(
            "tickTime=500\n"
            f"dataDir={data}\n"
            f"clientPort={self.port}\n"
            f"clientPortAddress={HOST}\n"
            "maxClientCnxns=0\n"
            # The AdminServer would take port 8080; the 4lw commands are our probes.
            "admin.enableServer=false\n"
            "4lw.commands.whitelist=srvr,ruok,dump,mntr\n"
        )
        return [str(config)]

    def _probe(self) -> bool:
        try:
            return "Mode: standalone" in self.four_letter("srvr", timeout=2.0)
        except OSError:
            return False


class KafkaBroker(JavaServer):
    """A Kafka broker in ZooKeeper mode (kafka.Kafka with a generated server.properties)."""

    name = "kafka"
    main_class = "kafka.Kafka"

    def __init__(
        self,
        jars: Path,
        zookeeper: ZooKeeperServer,
        workdir: Path | None = None,
        broker_id: int = 0,
        properties: Mapping[str, str] | None = None,
        heap: str = "512m",
    ) -> None:
        super().__init__(jars, workdir, heap)
        self.zookeeper = zookeeper
        self.broker_id = broker_id
        self.extra_properties = dict(properties or {})

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def tools_classpath(self) -> str:
        """Classpath for Kafka's CLI tools (ProducerPerformance, ConsoleConsumer, ...)."""
        return tools_classpath(self.jars)

    def tool_command(self, main_class: str, *args: str) -> list[str]:
        """The java command of a Kafka CLI tool (org.apache.kafka.tools.ProducerPerformance...)."""
        config = self.workdir / "tools-log4j.properties"
        config.write_text(TOOLS_LOG4J)
        log4j = f"-Dlog4j.configuration={config.as_uri()}"
        return [
            java_executable(),
            "-Xmx512m",
            log4j,
            "-cp",
            self.tools_classpath,
            main_class,
            *args,
        ]

    def admin(self, **configs: object) -> KafkaAdminClient:
        configs.setdefault("request_timeout_ms", 10_000)
        configs.setdefault("bootstrap_timeout_ms", 10_000)
        return KafkaAdminClient(bootstrap_servers=self.bootstrap, **configs)

    def create_topic(
        self, name: str, partitions: int = 1, configs: Mapping[str, str] | None = None
    ) -> str:
        """Create a topic and wait until every partition has a leader."""
        spec = {
            "num_partitions": partitions,
            "replication_factor": 1,
            "configs": dict(configs or {}),
        }
        with self.admin() as admin:
            admin.create_topics({name: spec}, wait_for_metadata=True)
        return name

    def properties(self) -> dict[str, str]:
        return {
            "broker.id": str(self.broker_id),
            "listeners": f"PLAINTEXT://{self.bootstrap}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap}",
            "log.dirs": str(self.log_dir),
            "zookeeper.connect": self.zookeeper.connect,
            "zookeeper.session.timeout.ms": str(ZK_SESSION_TIMEOUT_MS),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            # One partition instead of 50: the first consumer group then starts in a blink.
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "group.initial.rebalance.delay.ms": "0",
            **self.extra_properties,
        }

    def _write_config(self) -> list[str]:
        self.log_dir.mkdir(exist_ok=True)
        config = self.workdir / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in self.properties().items()))
        return [str(config)]

    def _before_start(self) -> None:
        # After a kill() ZooKeeper still holds the dead broker's registration until its
        # session expires, and a broker that finds its id taken exits: wait it out.
        if not self.zookeeper.running:
            raise ServerError(f"start the broker's ZooKeeper ({self.zookeeper.connect}) first")
        path = f"/brokers/ids/{self.broker_id}"
        wait_until(
            lambda: not self.zookeeper.has_ephemeral(path),
            ZK_SESSION_TIMEOUT_MS / 1000 * 3,
            f"ZooKeeper to drop the old registration {path}",
        )

    def _probe(self) -> bool:
        if not _port_open(self.port):
            return False
        try:
            with self.admin(request_timeout_ms=5000, bootstrap_timeout_ms=2000) as admin:
                cluster = admin.describe_cluster()
                ids = {broker["broker_id"] for broker in cluster["brokers"]}
                return self.broker_id in ids and _all_partitions_led(admin)
        except (KafkaError, OSError):
            return False


def tools_classpath(jars: Path) -> str:
    return f"{jars}/*"


def java_executable() -> str:
    java = process.java_executable()
    if java is None:
        raise ServerError("java is not installed: run ./tests/run.sh")
    return java


def free_port() -> int:
    return process.free_ports(1)[0]


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    check: Callable[[], None] = lambda: None,
) -> None:
    """Poll condition until true (streamlab.waiting); check() may raise to give up early."""

    def probe() -> bool:
        check()
        return condition()

    try:
        wait_for(probe, what, timeout, interval_s=0.2)
    except TimedOut as error:
        raise ServerError(str(error)) from None


def _all_partitions_led(admin: KafkaAdminClient) -> bool:
    # After a restart the broker answers before the controller has re-elected leaders.
    return all(
        partition["leader_id"] >= 0
        for topic in admin.describe_topics()
        for partition in topic["partitions"]
    )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False
