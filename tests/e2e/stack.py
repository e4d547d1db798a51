"""The running compose stack as the end-to-end tests see it: from the host, like a user.

Everything goes through ./compose.sh (settings.env, the profile, the secrets and the CI
override), the published ports on BIND_ADDRESS, and `docker compose exec` for what only the
inside of the network reaches (HDFS file contents, the tokens volume).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import requests

from streamlab import waiting
from streamlab.settings import Settings, parse_env_file

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
# Columns of Flux's CSV answer that are neither tags nor fields (the first has no name).
CSV_COLUMNS = frozenset({"", "result", "table"})


ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
FIGURES = ARTIFACTS / "figures.jsonl"


def log(message: str) -> None:
    print(f"[e2e] {message}", flush=True)


def record_figure(name: str, value: float, **context: Any) -> None:
    """A figure the tier measured: printed, and kept in tests/e2e/artifacts/figures.jsonl.
    Figures are reported, never asserted (a loaded machine is slower)."""
    line = {
        "figure": name,
        "value": round(value, 1),
        **context,
        "at": datetime.now(UTC).isoformat(),
    }
    log(f"figure {name} = {line['value']} {context or ''}".rstrip())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with FIGURES.open("a") as handle:
        handle.write(json.dumps(line) + "\n")


@dataclass(frozen=True)
class Stack:
    settings: Settings
    profile: str
    secrets: dict[str, str]

    @classmethod
    def current(cls) -> Stack:
        settings = Settings.load(ROOT / "settings.env")
        profile_file = ROOT / ".secrets" / "profile"
        profile = os.environ.get("STREAMLAB_PROFILE") or profile_file.read_text().strip()
        secrets = parse_env_file(ROOT / ".secrets" / "streamlab.env")
        return cls(settings, profile, secrets)

    # --- compose ------------------------------------------------------------------------

    def compose(self, *args: str, check: bool = True, timeout: float = 300) -> str:
        result = subprocess.run(
            [str(ROOT / "compose.sh"), *args],
            capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise RuntimeError(f"compose.sh {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def exec_bytes(self, service: str, *command: str) -> bytes:
        result = subprocess.run(
            [str(ROOT / "compose.sh"), "exec", "-T", service, *command],
            capture_output=True, timeout=120, check=False, cwd=ROOT,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"{service}: {' '.join(command)}: {result.stderr.decode()[-2000:]}")
        return result.stdout

    def containers(self) -> list[dict[str, Any]]:
        out = self.compose("ps", "-a", "--format", "json")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    # --- addresses ----------------------------------------------------------------------

    def url(self, port_key: str) -> str:
        return f"http://{self.settings.str('BIND_ADDRESS')}:{self.settings.str(port_key)}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.settings.str('BIND_ADDRESS')}:{self.settings.str('KAFKA_PORT')}"

    def influx_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.secrets['INFLUXDB_ADMIN_TOKEN']}"}

    def grafana_auth(self) -> tuple[str, str]:
        return self.settings.str("GRAFANA_ADMIN_USER"), self.secrets["GRAFANA_ADMIN_PASSWORD"]

    def token(self, name: str) -> str:
        return self.exec_bytes("streamer", "cat", f"/run/streamlab/secrets/{name}").decode().strip()

    # --- the streamer -------------------------------------------------------------------

    def stream(self, name: str) -> dict[str, Any]:
        reply = requests.get(f"{self.url('STREAMER_PORT')}/streams/{name}", timeout=10)
        reply.raise_for_status()
        return reply.json()

    def post_stream(self, name: str, action: str, body: dict | None = None) -> dict[str, Any]:
        url = f"{self.url('STREAMER_PORT')}/streams/{name}/{action}"
        reply = requests.post(url, json=body, timeout=10)
        reply.raise_for_status()
        return reply.json()

    # --- InfluxDB: read with Flux and the read token, as Grafana's datasource reads ------

    @cached_property
    def read_token(self) -> str:
        return self.token("influx-read.token")

    def flux_reply(self, flux: str) -> requests.Response:
        """POST /api/v2/query with the read token; the answer as CSV, unchecked."""
        return requests.post(
            f"{self.url('INFLUXDB_PORT')}/api/v2/query",
            params={"org": self.settings.str("INFLUX_ORG")},
            headers={"Authorization": f"Token {self.read_token}",
                     "Content-Type": "application/vnd.flux", "Accept": "application/csv"},
            data=flux.encode(), timeout=60,
        )  # fmt: skip

    def flux_rows(self, flux: str) -> list[dict[str, str]]:
        """The rows of every table of a Flux query's answer."""
        reply = self.flux_reply(flux)
        if reply.status_code != 200:
            raise RuntimeError(f"Flux query answered HTTP {reply.status_code}: {reply.text[:500]}")
        return csv_rows(reply.text)

    def influx_count(self, measurement: str) -> int:
        """Points of `measurement` stored in the data bucket."""
        # Points per field; every point of a dataset has them all, so the largest is the count.
        flux = (
            f'from(bucket: "{self.settings.str("INFLUX_BUCKET")}") |> range(start: 0) '
            f'|> filter(fn: (r) => r._measurement == "{measurement}") '
            '|> group(columns: ["_field"]) |> count()'
        )
        return max((int(row["_value"]) for row in self.flux_rows(flux)), default=0)

    def latest_point_ns(self, measurement: str) -> int:
        """The time of the newest point of `measurement` in the data bucket (0: none)."""
        flux = (
            f'from(bucket: "{self.settings.str("INFLUX_BUCKET")}") |> range(start: -1h) '
            f'|> filter(fn: (r) => r._measurement == "{measurement}") '
            '|> keep(columns: ["_time"]) |> group() |> sort(columns: ["_time"], desc: true) '
            "|> limit(n: 1)"
        )
        return max((epoch_ns(row["_time"]) for row in self.flux_rows(flux)), default=0)

    def pipeline_points(self, measurement: str) -> list[dict[str, Any]]:
        """Points of `measurement` in the pipeline bucket in the last hour, oldest first:
        {"tags", "fields", "time_ns"}."""
        flux = (
            f'from(bucket: "{self.settings.str("INFLUX_PIPELINE_BUCKET")}") |> range(start: -1h) '
            f'|> filter(fn: (r) => r._measurement == "{measurement}") '
            '|> drop(columns: ["_start", "_stop", "_measurement"])'
        )
        points: dict[tuple, dict[str, Any]] = {}
        for row in self.flux_rows(flux):
            tags = {k: v for k, v in row.items() if k not in CSV_COLUMNS and not k.startswith("_")}
            key = (row["_time"], tuple(sorted(tags.items())))
            point = points.setdefault(
                key, {"tags": tags, "fields": {}, "time_ns": epoch_ns(row["_time"])}
            )
            point["fields"][row["_field"]] = _number(row["_value"])
        return sorted(points.values(), key=lambda p: p["time_ns"])

    # --- the raw layer ------------------------------------------------------------------

    def parquet_rows(self, dataset: str) -> int:
        """Rows in the dataset's Parquet raw layer, copied out of the stack in one tar stream."""
        import pyarrow.parquet as pq

        total = 0
        for data in self._parquet_files(self._layer_tar(dataset)):
            total += pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        return total

    def layer_table(self, layer: str, dataset: str, columns: list[str] | None = None) -> Any:
        """A dataset's Parquet layer (`raw`, `curated`: folders beside each other under
        /streamlab on HDFS or /data/lake in lite) as one pyarrow Table of its files."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [
            pq.read_table(io.BytesIO(data), columns=columns)
            for data in self._parquet_files(self._layer_tar(dataset, layer))
        ]
        return pa.concat_tables(tables, promote_options="default") if tables else None

    @staticmethod
    def _parquet_files(tar: bytes) -> list[bytes]:
        """The layer's Parquet files that its _spark_metadata log commits, as Spark reads the
        layer: a file a killed batch left half-written is not a row of it. A layer without
        that log (curated, written by users' batch jobs) is all its files."""
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            members = [m for m in archive.getmembers() if m.isfile()]
            # Hidden files are the local filesystem's checksums (.0.crc) in lite, not log.
            log_files = [
                m
                for m in members
                if "/_spark_metadata/" in m.name and not Path(m.name).name.startswith(".")
            ]
            committed = _committed_names(archive.extractfile(m).read() for m in log_files)
            return [
                archive.extractfile(member).read()
                for member in members
                if member.name.endswith(".parquet")
                and "/_" not in member.name
                and (not log_files or Path(member.name).name in committed)
            ]

    def _layer_tar(self, dataset: str, layer: str = "raw") -> bytes:
        if self.profile == "full":
            # One JVM for the whole copy: `hdfs dfs -cat` per file costs a JVM start each.
            script = (
                f"rm -rf /tmp/e2e-{layer} && mkdir -p /tmp/e2e-{layer} && "
                f"hdfs dfs -get /streamlab/{layer}/{dataset} /tmp/e2e-{layer}/ && "
                f"tar -C /tmp/e2e-{layer} -cf - ."
            )
            return self.exec_bytes("namenode", "bash", "-c", script)
        return self.exec_bytes(
            "spark-job", "tar", "-C", f"/data/lake/{layer}/{dataset}", "-cf", "-", "."
        )


def _committed_names(log_files: Iterable[bytes]) -> set[str]:
    """The file names a Spark file sink's metadata log adds and does not delete: a "v1"
    line, then one JSON entry per file, in batch files and compacted ones alike."""
    added, deleted = set(), set()
    for text in log_files:
        for line in text.decode().splitlines()[1:]:
            entry = json.loads(line)
            name = entry["path"].rsplit("/", 1)[-1]
            (added if entry.get("action", "add") == "add" else deleted).add(name)
    return added - deleted


def csv_rows(text: str) -> list[dict[str, str]]:
    """Rows of Flux's CSV answer: tables with different columns come as blocks, each with
    its header, separated by an empty line."""
    blocks = [b for b in re.split(r"\r?\n\s*\r?\n", text.strip()) if b.strip()]
    return [row for block in blocks for row in csv.DictReader(io.StringIO(block))]


def epoch_ns(rfc3339: str) -> int:
    """'2026-01-02T03:04:05.123456789Z' (Flux's _time) in nanoseconds since the epoch."""
    whole, _, fraction = rfc3339.removesuffix("Z").partition(".")
    seconds = int(datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000_000 + int(fraction.ljust(9, "0")[:9])


def _number(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 2.0) -> T:
    """streamlab.waiting.wait_for as the e2e tests poll: until probe() is truthy, any error
    meaning "not yet" (services come up while we poll); a timeout fails naming `what`."""
    return waiting.wait_for(probe, what, timeout, interval_s=every, retry=(Exception,))
