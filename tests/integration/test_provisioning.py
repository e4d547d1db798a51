"""`python -m provisioning` against the real Kafka, HDFS and InfluxDB and the Grafana
double: every item exists with the right properties after the first run, a second run
changes nothing, and a service that is down fails the run with its name and the fix."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from influxdb_client import InfluxDBClient

from doubles.grafana import DoubleConfig, GrafanaDouble
from harness.influx import InfluxServer
from harness.process import free_ports
from streamlab.specs import load_specs

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ORG, BUCKET, PIPELINE = "streamlab", "streamlab", "pipeline"
WEEK_S = 7 * 86_400
ITEM = re.compile(
    r"^(kafka|hdfs|influxdb|grafana): (.+): (created|updated|already present)(?: \((.*)\))?$"
)
RUN_TIMEOUT_S = 240
GRAFANA_PASSWORD = "grafana-admin-password"
DATASOURCE_UID, FOLDER_UID = "streamlab-influxdb", "streamlab"
INFLUX_AS_GRAFANA_SEES_IT = "http://influxdb:8086"
# The harness's NameNode runs as the OS user, who is therefore its superuser.
SUPERUSER = getpass.getuser()

SPEC_A = """\
name: {name}
source:
  type: synthetic
  tag_values: {{sensor: [s1, s2]}}
  generators:
    temperature: {{kind: random_walk, start: 20.0, step: 0.1}}
    status: {{kind: choice, values: [ok, warn]}}
tags: [sensor]
fields: {{temperature: float, status: string}}
topic: {{partitions: 3}}
enriched: true
aggregations:
  - window: 1 minutes
    functions: [avg, max]
    fields: [temperature]
  - name: per_status
    window: 5 minutes
    group_by: [status]
    count: rows
    outputs: [kafka]
autostart: false
"""
SPEC_B = """\
name: {name}
source:
  type: synthetic
  generators:
    level: {{kind: uniform, low: 0, high: 10}}
fields: {{level: int}}
autostart: false
"""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    items: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def outcome(self, service: str, item: str) -> str:
        return self.items[(service, item)][0]


@dataclass
class Lab:
    env: dict[str, str]
    secrets: Path
    influx: InfluxServer
    grafana: GrafanaDouble
    admin_token: str
    datasets: Path
    base: str  # this test's HDFS folder
    spark_user: str

    @property
    def specs(self):
        return load_specs(self.datasets)

    @property
    def write_token_file(self) -> Path:
        return self.secrets / "influx-write.token"

    @property
    def read_token_file(self) -> Path:
        return self.secrets / "influx-read.token"

    def run(self, *args: str, **overrides: str) -> Run:
        env = {**os.environ, **self.env, **overrides}
        result = subprocess.run(
            [sys.executable, "-m", "provisioning", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        )  # fmt: skip
        run = Run(result.returncode, result.stdout, result.stderr)
        for line in result.stdout.splitlines():
            if match := ITEM.match(line):
                service, item, outcome, detail = match.groups()
                run.items[(service, item)] = (outcome, detail or "")
        return run

    def influx_admin(self) -> InfluxDBClient:
        return InfluxDBClient(url=self.influx.url, token=self.admin_token, org=ORG)


@pytest.fixture
def influxd(tmp_path: Path) -> Iterator[InfluxServer]:
    """A real influxd, not yet set up (the lab sets it up as the container's init does)."""
    with InfluxServer(tmp_path / "influxd") as server:
        yield server


@pytest.fixture
def grafana() -> Iterator[GrafanaDouble]:
    double = GrafanaDouble(config=DoubleConfig(admin_password=GRAFANA_PASSWORD)).start()
    yield double
    double.stop()


@pytest.fixture
def lab(kafka, hdfs, influxd: InfluxServer, grafana: GrafanaDouble, tmp_path: Path) -> Lab:
    """The influxdb container's init done (DOCKER_INFLUXDB_INIT_MODE=setup: org and data
    bucket, retention 7d, the admin token); the provisioner makes the rest."""
    unique = uuid.uuid4().hex[:8]
    admin_token = f"admin-{uuid.uuid4().hex}"
    influxd.setup("admin", "admin-password", ORG, BUCKET, admin_token)
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "influxdb-admin-token").write_text(admin_token + "\n")
    (secrets / "grafana-admin-password").write_text(GRAFANA_PASSWORD + "\n")
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    (datasets / "a.yaml").write_text(SPEC_A.format(name=f"p{unique}_a"))
    (datasets / "b.yaml").write_text(SPEC_B.format(name=f"p{unique}_b"))
    base, spark_user = f"/provisioning/{unique}", f"spark_{unique}"
    env = {
        "STREAMLAB_SETTINGS": str(ROOT / "settings.env"),
        "PROVISION_WAIT_S": "30",
        "DATASETS_DIR": str(datasets),
        "DASHBOARDS_DIR": str(ROOT / "dashboards"),
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "WEBHDFS_URL": hdfs.namenode_http_url,
        "HDFS_SUPERUSER": SUPERUSER,
        "SPARK_USER": spark_user,
        "RAW_LAYER_URI": f"{hdfs.uri}{base}/raw",
        "CHECKPOINT_URI": f"{hdfs.uri}{base}/checkpoints",
        "CURATED_LAYER_URI": f"{hdfs.uri}{base}/curated",
        "INFLUX_URL": influxd.url,
        "INFLUX_ORG": ORG,
        "INFLUX_BUCKET": BUCKET,
        "INFLUX_PIPELINE_BUCKET": PIPELINE,
        "INFLUX_RETENTION": "7d",
        "INFLUX_ADMIN_TOKEN_FILE": str(secrets / "influxdb-admin-token"),
        "INFLUX_WRITE_TOKEN_FILE": str(secrets / "influx-write.token"),
        "INFLUX_READ_TOKEN_FILE": str(secrets / "influx-read.token"),
        "GRAFANA_URL": grafana.url,
        "GRAFANA_ADMIN_USER": "admin",
        "GRAFANA_ADMIN_PASSWORD_FILE": str(secrets / "grafana-admin-password"),
        "GRAFANA_INFLUX_URL": INFLUX_AS_GRAFANA_SEES_IT,
    }
    return Lab(env, secrets, influxd, grafana, admin_token, datasets, base, spark_user)


# -- first and second run ----------------------------------------------------------------


def test_first_run_creates_everything_second_run_changes_nothing(lab: Lab, kafka, hdfs) -> None:
    first = lab.run()
    assert first.code == 0, first.stderr
    specs = lab.specs
    topics = {name for s in specs.values() for name, _kind in s.topics}
    # SPEC_A's enriched rows and its aggregation to Kafka have topics of their own
    assert {"enriched", "aggregate"} <= {kind for s in specs.values() for _, kind in s.topics}
    spark_dirs = [f"{lab.base}/raw", f"{lab.base}/checkpoints", f"{lab.base}/curated",
                  f"/user/{lab.spark_user}"]  # fmt: skip
    dashboards = {"streamlab-pipeline", *(f"dataset-{name}" for name in specs)}
    for topic in topics:
        assert first.outcome("kafka", f"topic {topic}") == "created"
    for path in spark_dirs:
        assert first.outcome("hdfs", path) == "created"
    for item in (
        f"bucket {PIPELINE}",
        "write token (influx-write.token)",
        "read token (influx-read.token)",
    ):
        assert first.outcome("influxdb", item) == "created"
    assert first.outcome("influxdb", f"bucket {BUCKET}") == "already present"  # the init made it
    for item in (f"datasource {DATASOURCE_UID}", f"folder {FOLDER_UID}"):
        assert first.outcome("grafana", item) == "created"
    for uid in dashboards:
        assert first.outcome("grafana", f"dashboard {uid}") == "created"
    assert "done: " in first.stdout

    _assert_topics(kafka, specs)
    _assert_dirs(hdfs, lab, spark_dirs)
    _assert_buckets(lab)
    _assert_tokens(lab)
    _assert_grafana(lab, dashboards)

    tokens_before = _token_files(lab)
    auths_before = _authorization_ids(lab)
    grafana_before = _grafana_state(lab)
    second = lab.run()
    assert second.code == 0, second.stderr
    assert set(second.items) == set(first.items)
    not_present = {k: v for k, v in second.items.items() if v[0] != "already present"}
    assert not not_present
    assert _token_files(lab) == tokens_before
    assert _authorization_ids(lab) == auths_before
    assert _grafana_state(lab) == grafana_before
    assert _grafana_writes(lab) == _grafana_writes_after_first_run(dashboards)
    _assert_topics(kafka, specs)


def test_output_is_one_line_per_item(lab: Lab) -> None:
    run = lab.run("--only", "kafka")
    assert run.code == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("kafka: ")]
    assert len(lines) == len(run.items) == sum(len(s.topics) for s in lab.specs.values())


# -- repairs -------------------------------------------------------------------------------


def test_topics_with_fewer_partitions_grow_and_are_never_shrunk(lab: Lab, kafka) -> None:
    spec_a, spec_b = sorted(lab.specs.values(), key=lambda s: s.name)
    kafka.create_topic(spec_a.raw_topic, 1)  # the spec asks 3
    kafka.create_topic(spec_b.raw_topic, 2)  # the spec asks 1
    run = lab.run("--only", "kafka")
    assert run.code == 0, run.stderr
    outcome, detail = run.items[("kafka", f"topic {spec_a.raw_topic}")]
    assert outcome == "updated" and "had 1 partition," in detail and "asks 3" in detail
    outcome, detail = run.items[("kafka", f"topic {spec_b.raw_topic}")]
    assert outcome == "already present" and "never removed" in detail
    counts = _partitions(kafka, [spec_a.raw_topic, spec_b.raw_topic])
    assert counts == {spec_a.raw_topic: 3, spec_b.raw_topic: 2}


def test_hdfs_owner_and_mode_are_repaired(lab: Lab, hdfs) -> None:
    path = f"{lab.base}/raw"
    _webhdfs(hdfs, "PUT", path, "MKDIRS", permission="700")
    _webhdfs(hdfs, "PUT", path, "SETOWNER", owner="someone")
    _webhdfs(hdfs, "PUT", path, "SETPERMISSION", permission="700")
    run = lab.run("--only", "hdfs")
    assert run.code == 0, run.stderr
    outcome, detail = run.items[("hdfs", path)]
    assert outcome == "updated"
    assert "owner someone -> " in detail and "mode 700 -> 755" in detail
    status = _status(hdfs, path)
    assert (status["owner"], status["permission"]) == (lab.spark_user, "755")


def test_lite_profile_skips_hdfs(lab: Lab) -> None:
    run = lab.run("--only", "hdfs", WEBHDFS_URL="")
    assert run.code == 0, run.stderr
    assert "hdfs: skipped (no WEBHDFS_URL: lite profile)" in run.stdout
    assert not run.items


def test_invalid_tokens_are_replaced_and_the_stale_ones_deleted(lab: Lab) -> None:
    assert lab.run("--only", "influxdb").code == 0
    old_write = lab.write_token_file.read_text().strip()
    with lab.influx_admin() as client:
        api = client.authorizations_api()
        auth = next(a for a in api.find_authorizations() if a.token == old_write)
        auth.status = "inactive"
        api.update_authorization(auth)
    lab.read_token_file.write_text("not-a-token\n")

    run = lab.run("--only", "influxdb")
    assert run.code == 0, run.stderr
    outcome, detail = run.items[("influxdb", "write token (influx-write.token)")]
    assert outcome == "updated" and "inactive" in detail and "1 earlier token(s) deleted" in detail
    outcome, detail = run.items[("influxdb", "read token (influx-read.token)")]
    assert outcome == "updated" and "unknown to InfluxDB" in detail
    new_write = lab.write_token_file.read_text().strip()
    assert new_write != old_write
    with lab.influx_admin() as client:
        tokens = [a.token for a in client.authorizations_api().find_authorizations()]
    assert old_write not in tokens and new_write in tokens
    assert tokens.count(lab.read_token_file.read_text().strip()) == 1
    assert len(tokens) == 3  # admin, write, read: nothing stale left
    _assert_tokens(lab)


def test_a_new_read_token_reaches_the_grafana_datasource(lab: Lab) -> None:
    assert lab.run().code == 0
    lab.read_token_file.write_text("not-a-token\n")
    run = lab.run("--only", "influxdb,grafana")
    assert run.code == 0, run.stderr
    assert run.outcome("influxdb", "read token (influx-read.token)") == "updated"
    outcome, detail = run.items[("grafana", f"datasource {DATASOURCE_UID}")]
    assert outcome == "updated" and "streamlabTokenSha256" in detail
    token = lab.read_token_file.read_text().strip()
    assert lab.grafana.datasource_secrets(DATASOURCE_UID) == {"token": token}
    assert all(v[0] == "already present" for k, v in run.items.items() if k[1].startswith("dash"))


def test_a_dashboard_changed_in_grafana_is_restored(lab: Lab) -> None:
    assert lab.run("--only", "influxdb,grafana").code == 0
    uid = "streamlab-pipeline"
    original = lab.grafana.dashboard(uid)
    edited = {**original, "title": "Pipeline (edited)", "panels": original["panels"][:1]}
    _grafana_post(lab, "/api/dashboards/db", {"dashboard": edited, "folderUid": FOLDER_UID})
    run = lab.run("--only", "grafana")
    assert run.code == 0, run.stderr
    assert run.outcome("grafana", f"dashboard {uid}") == "updated"
    restored = lab.grafana.dashboard(uid)
    assert restored["version"] == 3
    assert _without_version(restored) == _without_version(original)


def test_a_changed_retention_is_applied(lab: Lab) -> None:
    run = lab.run("--only", "influxdb", INFLUX_RETENTION="14d")
    assert run.code == 0, run.stderr
    assert run.items[("influxdb", f"bucket {BUCKET}")] == ("updated", "retention 7d -> 14d")
    with lab.influx_admin() as client:
        bucket = client.buckets_api().find_bucket_by_name(BUCKET)
    assert bucket.retention_rules[0].every_seconds == 14 * 86_400


def test_settings_name_what_is_wrong(lab: Lab) -> None:
    run = lab.run("--only", "influxdb", INFLUX_RETENTION="a week")
    assert run.code == 2
    assert "INFLUX_RETENTION='a week' is not a duration" in run.stderr
    run = lab.run("--only", "influxdb", INFLUX_RETENTION="30m")
    assert run.code == 2 and "at least 1h" in run.stderr
    lab.read_token_file.write_text("token\n")
    run = lab.run("--only", "grafana", DASHBOARDS_DIR=str(lab.secrets / "nowhere"))
    assert run.code == 1
    assert "dashboards folder does not exist" in run.stderr and "DASHBOARDS_DIR" in run.stderr


def test_a_token_file_readable_by_others_is_restricted(lab: Lab) -> None:
    assert lab.run("--only", "influxdb").code == 0
    token = lab.read_token_file.read_text()
    lab.read_token_file.chmod(0o644)
    run = lab.run("--only", "influxdb")
    assert run.items[("influxdb", "read token (influx-read.token)")] == (
        "updated",
        "file mode set to 0600",
    )
    assert lab.read_token_file.read_text() == token
    assert lab.read_token_file.stat().st_mode & 0o777 == 0o600


# -- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "setting", "url"),
    [
        ("kafka", "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:{port}"),
        ("hdfs", "WEBHDFS_URL", "http://127.0.0.1:{port}"),
        ("influxdb", "INFLUX_URL", "http://127.0.0.1:{port}"),
        ("grafana", "GRAFANA_URL", "http://127.0.0.1:{port}"),
    ],
)
def test_a_service_that_is_down_fails_with_its_name_and_the_fix(
    lab: Lab, step: str, setting: str, url: str
) -> None:
    if step == "grafana":
        assert lab.run("--only", "influxdb").code == 0  # Grafana's step needs the read token
    (closed,) = free_ports(1)
    run = lab.run("--only", step, PROVISION_WAIT_S="2", **{setting: url.format(port=closed)})
    assert run.code == 1
    assert f"{step}: waiting for" in run.stdout
    assert run.stderr.startswith(f"error: {step}: ")
    assert "no answer after 2s" in run.stderr
    assert "fix: start" in run.stderr and setting in run.stderr
    assert "Traceback" not in run.stderr


def test_a_wrong_admin_token_is_named(lab: Lab) -> None:
    (lab.secrets / "influxdb-admin-token").write_text("wrong\n")
    run = lab.run("--only", "influxdb")
    assert run.code == 1
    assert run.stderr.startswith("error: influxdb: admin token: refused (401)")
    assert "INFLUX_ADMIN_TOKEN_FILE" in run.stderr and "Traceback" not in run.stderr
    (lab.secrets / "influxdb-admin-token").unlink()
    run = lab.run("--only", "influxdb")
    assert run.code == 1 and "cannot read" in run.stderr and "Traceback" not in run.stderr


def test_a_wrong_grafana_password_is_named(lab: Lab) -> None:
    assert lab.run("--only", "influxdb").code == 0
    (lab.secrets / "grafana-admin-password").write_text("wrong\n")
    run = lab.run("--only", "grafana")
    assert run.code == 1
    assert run.stderr.startswith("error: grafana: admin login 'admin': refused (401)")
    assert "GRAFANA_ADMIN_PASSWORD_FILE" in run.stderr and "Traceback" not in run.stderr


def test_grafana_needs_the_read_token_first(lab: Lab) -> None:
    run = lab.run("--only", "grafana")
    assert run.code == 1
    assert run.stderr.startswith("error: grafana: InfluxDB read token: cannot read")
    assert "run the influxdb step first" in run.stderr


def test_an_unknown_step_is_a_usage_error(lab: Lab) -> None:
    run = lab.run("--only", "kafka,zookeeper")
    assert run.code == 2 and "unknown step(s) zookeeper" in run.stderr


# -- checks --------------------------------------------------------------------------------


def _partitions(kafka, topics: list[str]) -> dict[str, int]:
    with kafka.admin() as admin:
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(topics)}


def _assert_topics(kafka, specs) -> None:
    wanted = {topic: spec.partitions for spec in specs.values() for topic, _kind in spec.topics}
    assert _partitions(kafka, list(wanted)) == wanted


def _webhdfs(hdfs, method: str, path: str, op: str, **params: str) -> requests.Response:
    query = {"op": op, "user.name": SUPERUSER, **params}
    response = requests.request(method, f"{hdfs.webhdfs_url}{path}", params=query, timeout=10)
    response.raise_for_status()
    return response


def _status(hdfs, path: str) -> dict:
    return _webhdfs(hdfs, "GET", path, "GETFILESTATUS").json()["FileStatus"]


def _assert_dirs(hdfs, lab: Lab, spark_dirs: list[str]) -> None:
    for path in spark_dirs:
        status = _status(hdfs, path)
        assert (status["type"], status["owner"], status["permission"]) == (
            "DIRECTORY",
            lab.spark_user,
            "755",
        )
    tmp = _status(hdfs, "/tmp")
    assert (tmp["type"], tmp["owner"], tmp["permission"]) == ("DIRECTORY", SUPERUSER, "1777")


def _bucket_ids(lab: Lab) -> dict[str, str]:
    with lab.influx_admin() as client:
        api = client.buckets_api()
        return {name: api.find_bucket_by_name(name).id for name in (BUCKET, PIPELINE)}


def _assert_buckets(lab: Lab) -> None:
    with lab.influx_admin() as client:
        for name in (BUCKET, PIPELINE):
            bucket = client.buckets_api().find_bucket_by_name(name)
            assert bucket.retention_rules[0].every_seconds == WEEK_S


def _assert_tokens(lab: Lab) -> None:
    """The write token writes both buckets and reads neither; the read token the reverse."""
    write = lab.write_token_file.read_text().strip()
    read = lab.read_token_file.read_text().strip()
    for path in (lab.write_token_file, lab.read_token_file):
        assert path.stat().st_mode & 0o777 == 0o600
    for name, bucket_id in _bucket_ids(lab).items():
        assert _write(lab, write, name) == 204
        assert _read_bucket(lab, write, bucket_id) == 401
        assert _write(lab, read, name) == 403
        assert _read_bucket(lab, read, bucket_id) == 200
    org_id = _org_id(lab)
    for token in (write, read):  # neither sees tokens nor makes buckets
        assert _get_json(lab, "/api/v2/authorizations", token)["authorizations"] == []
        new_bucket = {"orgID": org_id, "name": f"b{uuid.uuid4().hex[:6]}"}
        assert _status_code(lab, "POST", "/api/v2/buckets", token, new_bucket) == 401


def _write(lab: Lab, token: str, bucket: str) -> int:
    response = requests.post(
        f"{lab.influx.url}/api/v2/write",
        params={"org": ORG, "bucket": bucket, "precision": "s"},
        headers={"Authorization": f"Token {token}"},
        data=f"probe value=1 {int(time.time())}".encode(),
        timeout=10,
    )
    return response.status_code


def _read_bucket(lab: Lab, token: str, bucket_id: str) -> int:
    return _status_code(lab, "GET", f"/api/v2/buckets/{bucket_id}", token)


def _status_code(lab: Lab, method: str, path: str, token: str, body: dict | None = None) -> int:
    headers = {"Authorization": f"Token {token}"}
    url = lab.influx.url + path
    return requests.request(method, url, headers=headers, json=body, timeout=10).status_code


def _get_json(lab: Lab, path: str, token: str) -> dict:
    headers = {"Authorization": f"Token {token}"}
    response = requests.get(lab.influx.url + path, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def _org_id(lab: Lab) -> str:
    with lab.influx_admin() as client:
        return client.organizations_api().find_organizations(org=ORG)[0].id


def _grafana_get(lab: Lab, path: str) -> dict:
    auth = ("admin", GRAFANA_PASSWORD)
    response = requests.get(lab.grafana.url + path, auth=auth, timeout=10)
    response.raise_for_status()
    return response.json()


def _grafana_post(lab: Lab, path: str, body: dict) -> dict:
    auth = ("admin", GRAFANA_PASSWORD)
    response = requests.post(lab.grafana.url + path, auth=auth, json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def _assert_grafana(lab: Lab, dashboards: set[str]) -> None:
    datasource = _grafana_get(lab, f"/api/datasources/uid/{DATASOURCE_UID}")
    assert (datasource["type"], datasource["access"], datasource["url"]) == (
        "influxdb",
        "proxy",
        INFLUX_AS_GRAFANA_SEES_IT,
    )
    json_data = datasource["jsonData"]
    assert (json_data["version"], json_data["organization"], json_data["defaultBucket"]) == (
        "Flux",
        ORG,
        BUCKET,
    )
    read_token = lab.read_token_file.read_text().strip()
    assert lab.grafana.datasource_secrets(DATASOURCE_UID) == {"token": read_token}
    assert _grafana_get(lab, f"/api/folders/{FOLDER_UID}")["title"] == "StreamLab"
    stored = {d["dashboard"]["uid"]: d for d in lab.grafana.dashboards()}
    assert set(stored) == dashboards
    for uid in dashboards:
        assert stored[uid]["folderUid"] == FOLDER_UID
        assert stored[uid]["dashboard"]["version"] == 1
    for name, spec in lab.specs.items():
        model = stored[f"dataset-{name}"]["dashboard"]
        titles = [p["title"] for p in model["panels"]]
        assert titles[: len(spec.point_fields)] == list(spec.point_fields)
        variables = {v["name"]: v for v in model["templating"]["list"]}
        assert set(variables) == {"bucket", *spec.point_tags}
        assert variables["bucket"]["current"]["value"] == BUCKET
    pipeline = stored["streamlab-pipeline"]["dashboard"]
    variables = {v["name"]: v for v in pipeline["templating"]["list"]}
    assert variables["pipeline_bucket"]["current"]["value"] == PIPELINE


def _grafana_state(lab: Lab) -> tuple:
    return lab.grafana.datasources(), lab.grafana.dashboards()


def _grafana_writes(lab: Lab) -> dict[str, int]:
    requests_seen = lab.grafana.stats.snapshot()["requests"]
    return {k: v for k, v in requests_seen.items() if not k.startswith("GET")}


def _grafana_writes_after_first_run(dashboards: set[str]) -> dict[str, int]:
    """What the first run wrote; the second run writes nothing."""
    return {
        "POST /api/datasources": 1,
        "POST /api/folders": 1,
        "POST /api/dashboards/db": len(dashboards),
    }


def _without_version(model: dict) -> dict:
    return {k: v for k, v in model.items() if k != "version"}


def _token_files(lab: Lab) -> dict[str, tuple[str, int]]:
    return {
        p.name: (p.read_text(), p.stat().st_mtime_ns)
        for p in (lab.write_token_file, lab.read_token_file)
    }


def _authorization_ids(lab: Lab) -> set[str]:
    with lab.influx_admin() as client:
        return {a.id for a in client.authorizations_api().find_authorizations()}
