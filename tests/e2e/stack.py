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
import subprocess
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.settings import Settings, parse_env_file

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def log(message: str) -> None:
    print(f"[e2e] {message}", flush=True)


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

    # --- InfluxDB -----------------------------------------------------------------------

    def is_influx_double(self) -> bool:
        health = requests.get(f"{self.url('INFLUXDB_PORT')}/health", timeout=10).json()
        return "double" in json.dumps(health).lower()

    def influx_count(self, measurement: str) -> int:
        """Points of `measurement` stored in the data bucket."""
        bucket = self.settings.str("INFLUX_BUCKET")
        if self.is_influx_double():
            return len(self._double_points(bucket, measurement))
        return self._flux_count(bucket, measurement)

    def pipeline_points(self, measurement: str) -> list[dict[str, Any]]:
        """Points of `measurement` in the pipeline bucket, as the double's inspection API
        gives them ({"tags", "fields", "time_ns", ...}); from InfluxDB by Flux otherwise."""
        bucket = self.settings.str("INFLUX_PIPELINE_BUCKET")
        if self.is_influx_double():
            return self._double_points(bucket, measurement)
        return self._flux_points(bucket, measurement)

    def _double_points(self, bucket: str, measurement: str) -> list[dict[str, Any]]:
        """The InfluxDB double's stored points (its /_double inspection API)."""
        reply = requests.get(
            f"{self.url('INFLUXDB_PORT')}/_double/points",
            params={"bucket": bucket, "measurement": measurement}, timeout=30,
        )  # fmt: skip
        reply.raise_for_status()
        return reply.json()

    def _flux_points(self, bucket: str, measurement: str) -> list[dict[str, Any]]:
        flux = (
            f'from(bucket: "{bucket}") |> range(start: -1h) '
            f'|> filter(fn: (r) => r._measurement == "{measurement}") '
            '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
        )
        rows = list(csv.DictReader(self._flux(flux)))
        fields = MEASUREMENTS[measurement].fields
        return [
            {"tags": {k: v for k, v in r.items() if k in MEASUREMENTS[measurement].tags},
             "fields": {k: _number(v) for k, v in r.items() if k in fields and v != ""},
             "time": r.get("_time")}
            for r in rows
        ]  # fmt: skip

    def _flux(self, flux: str) -> list[str]:
        """The non-empty CSV lines of a Flux query's answer."""
        reply = requests.post(
            f"{self.url('INFLUXDB_PORT')}/api/v2/query",
            params={"org": self.settings.str("INFLUX_ORG")},
            headers={**self.influx_headers(), "Content-Type": "application/vnd.flux",
                     "Accept": "application/csv"},
            data=flux, timeout=60,
        )  # fmt: skip
        reply.raise_for_status()
        return [line for line in reply.text.splitlines() if line.strip()]

    def _flux_count(self, bucket: str, measurement: str) -> int:
        # One field per point is enough to count points: every point of a dataset has them all.
        flux = (
            f'from(bucket: "{bucket}") |> range(start: 0) '
            f'|> filter(fn: (r) => r._measurement == "{measurement}") '
            '|> group(columns: ["_field"]) |> count() |> max()'
        )
        rows = [r.split(",") for r in self._flux(flux)]
        if len(rows) < 2:
            return 0
        return int(rows[1][rows[0].index("_value")])

    # --- the raw layer ------------------------------------------------------------------

    def parquet_rows(self, dataset: str) -> int:
        """Rows in the dataset's Parquet raw layer, copied out of the stack in one tar stream."""
        import pyarrow.parquet as pq

        total = 0
        with tarfile.open(fileobj=io.BytesIO(self._raw_layer_tar(dataset))) as archive:
            for member in archive.getmembers():
                name = member.name
                if member.isfile() and name.endswith(".parquet") and "/_" not in name:
                    data = archive.extractfile(member).read()
                    total += pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        return total

    def _raw_layer_tar(self, dataset: str) -> bytes:
        if self.profile == "full":
            # One JVM for the whole copy: `hdfs dfs -cat` per file costs a JVM start each.
            script = (
                f"rm -rf /tmp/e2e-raw && mkdir -p /tmp/e2e-raw && "
                f"hdfs dfs -get /streamlab/raw/{dataset} /tmp/e2e-raw/ && "
                f"tar -C /tmp/e2e-raw -cf - ."
            )
            return self.exec_bytes("namenode", "bash", "-c", script)
        return self.exec_bytes(
            "spark-job", "tar", "-C", f"/data/lake/raw/{dataset}", "-cf", "-", "."
        )


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 2.0) -> T:
    """Poll until probe() returns a truthy value; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as error:  # services come up while we poll
            last_error = error
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} ({last_error})")
