"""The real InfluxDB 2.7 (influxd) as a local process on 127.0.0.1, set up as the
provisioner leaves InfluxDB: org, data and pipeline buckets, a write-only token for both
(what the Spark job, the streamer and the collector get) and a read-only one (Grafana's).

The binary is $INFLUXD, or what tests/harness/influxd.sh finds or builds (tests/run.sh
runs it first and exports INFLUXD). Points are read back with Flux through the read token,
as Grafana does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import secrets
import signal
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import requests
from influxdb_client import BucketRetentionRules, InfluxDBClient, Permission, PermissionResource

from harness import process
from harness.kafka import ServerError, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
FIND_INFLUXD = ROOT / "tests" / "harness" / "influxd.sh"
ORG, DATA_BUCKET, PIPELINE_BUCKET = "streamlab", "streamlab", "pipeline"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
WEEK_S = 7 * 86400
# Annotated CSV's column types, as line protocol names a field's type.
FIELD_TYPES = {"double": "float", "long": "integer", "unsignedLong": "unsigned"}
FIELD_TYPES.update(string="string", boolean="boolean")
NOT_TAGS = {"", "result", "table", "_start", "_stop", "_time", "_value", "_field", "_measurement"}


def influxd_binary() -> str:
    """$INFLUXD, else the path tests/harness/influxd.sh prints (it may build influxd once)."""
    if os.environ.get("INFLUXD"):
        return os.environ["INFLUXD"]
    # Its progress and errors go to stderr, where a build of several minutes shows.
    found = subprocess.run([str(FIND_INFLUXD)], stdout=subprocess.PIPE, text=True)
    if found.returncode != 0:
        raise ServerError(f"no influxd: {FIND_INFLUXD} failed (its message is above)")
    return found.stdout.strip()


class InfluxServer(process.LocalServer):
    """influxd with its bolt, sqlite and engine files in `workdir`, reporting off."""

    name = "influxd"

    def __init__(self, workdir: Path | None = None) -> None:
        super().__init__(workdir, "streamlab-influxd-")
        self.port = 0
        # influxd stops gracefully on SIGINT; SIGTERM kills it at once.
        self._process = process.GroupProcess(stop_signal=signal.SIGINT)

    @property
    def url(self) -> str:
        return f"http://{process.HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "influxd.log"

    @property
    def running(self) -> bool:
        return self._process.running

    def version(self) -> str:
        return requests.get(f"{self.url}/health", timeout=5).json()["version"]

    def start(self, timeout: float = READY_TIMEOUT_S) -> Self:
        if self.running:
            return self
        self.port = self.port or free_port()
        self._process.spawn([influxd_binary(), "run", *self._flags()], self.log, self.workdir)
        try:
            wait_until(self._healthy, timeout, f"influxd on port {self.port}", self._check_alive)
        except ServerError as error:
            self.kill()
            raise ServerError(f"{error}\n{process.tail(self.log, 40)}") from None
        return self

    def _flags(self) -> list[str]:
        return [
            f"--http-bind-address={process.HOST}:{self.port}",
            f"--bolt-path={self.workdir / 'influxd.bolt'}",
            f"--sqlite-path={self.workdir / 'influxd.sqlite'}",
            f"--engine-path={self.workdir / 'engine'}",
            "--reporting-disabled",
            "--log-level=warn",
        ]

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def _check_alive(self) -> None:
        if not self.running:
            code = self._process.returncode
            raise ServerError(f"influxd exited with code {code} while starting")

    def setup(self, user: str, password: str, org: str, bucket: str, token: str) -> None:
        """What the official image's DOCKER_INFLUXDB_INIT_MODE=setup does: onboarding."""
        answer = requests.post(
            f"{self.url}/api/v2/setup",
            json={
                "username": user, "password": password, "org": org, "bucket": bucket,
                "retentionPeriodSeconds": WEEK_S, "token": token,
            },
            timeout=10,
        )  # fmt: skip
        if answer.status_code != 201:
            raise ServerError(f"influxd setup answered {answer.status_code}: {answer.text}")

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Graceful stop (SIGINT); SIGKILL if it takes longer than timeout."""
        self._process.stop(timeout)

    def kill(self) -> None:
        self._process.kill()


@dataclass
class InfluxLab:
    """A started influxd set up as the provisioner leaves it."""

    server: InfluxServer
    admin_token: str
    write_token: str
    read_token: str

    @property
    def url(self) -> str:
        return self.server.url

    def query_csv(self, flux: str) -> str:
        """Flux through the read token, as Grafana's datasource sends it; the annotated CSV."""
        answer = requests.post(
            f"{self.url}/api/v2/query",
            params={"org": ORG},
            headers={"Authorization": f"Token {self.read_token}", "Accept": "application/csv"},
            json={
                "query": flux, "type": "flux",
                "dialect": {"annotations": ["datatype", "group", "default"], "header": True},
            },
            timeout=60,
        )  # fmt: skip
        if answer.status_code != 200:
            raise AssertionError(f"Flux query answered {answer.status_code}: {answer.text}")
        return answer.text

    def points(self, measurement: str | None, bucket: str = DATA_BUCKET) -> list[dict[str, Any]]:
        """Every stored point of `measurement` (None: of every measurement), as dicts of
        measurement, tags, fields, field_types and time_ns, in time order."""
        where = "" if measurement is None else f" and r._measurement == {_flux_string(measurement)}"
        flux = (
            f"from(bucket: {_flux_string(bucket)}) |> range(start: 0)"
            f" |> filter(fn: (r) => true{where})"
        )
        return _points(read_annotated_csv(self.query_csv(flux)))

    def count(self, measurement: str, bucket: str = DATA_BUCKET) -> int:
        return len(self.points(measurement, bucket))


def _flux_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_annotated_csv(text: str) -> list[dict[str, Any]]:
    """Rows of an annotated CSV answer, each with its `_value` type as `_type`."""
    rows: list[dict[str, Any]] = []
    types: list[str] = []
    header: list[str] | None = None
    for record in csv.reader(io.StringIO(text)):
        if not record or not any(record):
            header = None  # a blank line ends a table's block
            continue
        if record[0] == "#datatype":
            types, header = record, None
        elif record[0].startswith("#"):
            continue
        elif header is None:
            header = record
        else:
            row = dict(zip(header, record, strict=True))
            row["_type"] = dict(zip(header, types, strict=False)).get("_value", "")
            rows.append(row)
    return rows


def time_ns(rfc3339: str) -> int:
    """RFC3339 with up to nanoseconds, as Flux writes _time, to ns since the epoch."""
    seconds, _, rest = rfc3339.rstrip("Z").partition(".")
    whole = dt.datetime.fromisoformat(seconds).replace(tzinfo=dt.UTC)
    return int(whole.timestamp()) * 1_000_000_000 + int((rest or "0").ljust(9, "0")[:9])


def _value(text: str, kind: str) -> Any:
    if kind == "double":
        return float(text)
    if kind in ("long", "unsignedLong"):
        return int(text)
    if kind == "boolean":
        return text == "true"
    return text


def _points(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flux's one row per field value, gathered back into points."""
    points: dict[tuple, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        tags = {k: v for k, v in row.items() if k not in NOT_TAGS and k != "_type" and v != ""}
        key = (row["_measurement"], tuple(sorted(tags.items())), row["_time"])
        point = points[key]
        if not point:
            point.update(
                measurement=row["_measurement"], tags=tags, fields={}, field_types={},
                time_ns=time_ns(row["_time"]),
            )  # fmt: skip
        point["fields"][row["_field"]] = _value(row["_value"], row["_type"])
        point["field_types"][row["_field"]] = FIELD_TYPES.get(row["_type"], row["_type"])
    return sorted(points.values(), key=lambda p: (p["time_ns"], p["measurement"]))


def set_up_lab(server: InfluxServer) -> InfluxLab:
    """Onboards a started server and makes the buckets and tokens the provisioner makes."""
    admin = secrets.token_urlsafe(24)
    server.setup("streamlab-admin", secrets.token_urlsafe(16), ORG, DATA_BUCKET, admin)
    with InfluxDBClient(url=server.url, token=admin, org=ORG) as client:
        org = client.organizations_api().find_organizations(org=ORG)[0]
        client.buckets_api().create_bucket(
            bucket_name=PIPELINE_BUCKET,
            org=org,
            retention_rules=BucketRetentionRules(type="expire", every_seconds=WEEK_S),
        )
        buckets = [
            client.buckets_api().find_bucket_by_name(b) for b in (DATA_BUCKET, PIPELINE_BUCKET)
        ]
        tokens = {}
        for action in ("write", "read"):
            permissions = [
                Permission(action, PermissionResource(type="buckets", id=b.id, org_id=org.id))
                for b in buckets
            ]
            auth = client.authorizations_api().create_authorization(
                org_id=org.id, permissions=permissions
            )
            tokens[action] = auth.token
    return InfluxLab(server, admin, tokens["write"], tokens["read"])
