"""The InfluxDB 2.7 test double, driven by the official influxdb-client where it can be.

What each test pins is the real server's documented behaviour (see the double's modules for
the source of each rule); the double must never be laxer than InfluxDB.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from influxdb_client import (
    BucketRetentionRules,
    InfluxDBClient,
    OnboardingRequest,
    Permission,
    PermissionResource,
    Point,
    WriteOptions,
    WritePrecision,
)
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
from influxdb_client.service.setup_service import SetupService

from doubles.influxdb import DoubleConfig, InfluxDBDouble
from doubles.influxdb.config import ConfigError, config_from_env, parse_duration_seconds
from doubles.influxdb.lineprotocol import LineSyntaxError, parse, parse_line
from doubles.influxdb.permissions import all_access_permissions

TESTS_DIR = Path(__file__).resolve().parents[1]
NOW_NS = 1_700_000_000_123_456_789
PASSWORD = "s3cret-password"


# --- helpers -----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    url: str,
    method: str,
    path: str,
    token: str | None = None,
    body: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One raw HTTP request (for what the client library hides: headers, exact bodies)."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url + path, data=data, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if token is not None:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request) as response:
            return _reply(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return _reply(error.code, error.read(), error.headers)


def _reply(status: int, raw: bytes, headers: Any) -> Reply:
    return Reply(status, json.loads(raw) if raw else None, dict(headers.items()))


def api_error(error: pytest.ExceptionInfo[ApiException]) -> tuple[int, dict[str, Any]]:
    return error.value.status, json.loads(error.value.body)


@dataclass
class Lab:
    """An onboarded double with two orgs, two buckets in the first, and scoped tokens."""

    double: InfluxDBDouble
    admin_token: str
    org_id: str
    bucket_a: Any
    bucket_b: Any
    write_a_token: str
    read_a_token: str
    other_org_id: str
    other_org_token: str

    def client(self, token: str, **kwargs: Any) -> InfluxDBClient:
        return InfluxDBClient(url=self.double.url, token=token, org="lab", **kwargs)


def scoped_token(client: InfluxDBClient, org_id: str, action: str, bucket_id: str) -> str:
    resource = PermissionResource(type="buckets", id=bucket_id, org_id=org_id)
    auth = client.authorizations_api().create_authorization(
        org_id=org_id, permissions=[Permission(action=action, resource=resource)]
    )
    return auth.token


@pytest.fixture
def double() -> Iterator[InfluxDBDouble]:
    with InfluxDBDouble() as running:
        yield running


@pytest.fixture
def lab(double: InfluxDBDouble) -> Iterator[Lab]:
    with InfluxDBClient(url=double.url, token="") as anonymous:
        onboarding = SetupService(anonymous.api_client).post_setup(
            onboarding_request=OnboardingRequest(
                username="admin", password=PASSWORD, org="lab", bucket="bucket-a"
            )
        )
    admin_token = onboarding.auth.token
    with InfluxDBClient(url=double.url, token=admin_token, org="lab") as admin:
        org_id = onboarding.org.id
        buckets = admin.buckets_api()
        bucket_a = buckets.find_bucket_by_name("bucket-a")
        bucket_b = buckets.create_bucket(bucket_name="bucket-b", org="lab")
        other_org = admin.organizations_api().create_organization(name="other")
        other_bucket = buckets.create_bucket(bucket_name="bucket-o", org=other_org.id)
        yield Lab(
            double,
            admin_token,
            org_id,
            bucket_a,
            bucket_b,
            scoped_token(admin, org_id, "write", bucket_a.id),
            scoped_token(admin, org_id, "read", bucket_a.id),
            other_org.id,
            scoped_token(admin, other_org.id, "write", other_bucket.id),
        )


def write_lines(lab: Lab, token: str, body: str | bytes, **query: str) -> Reply:
    params = {"org": "lab", "bucket": "bucket-a", **query}
    path = "/api/v2/write?" + "&".join(f"{key}={value}" for key, value in params.items())
    data = body.encode() if isinstance(body, str) else body
    return call(lab.double.url, "POST", path, token, data)


# --- line protocol (parser only) -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "measurement", "tags", "fields"),
    [
        (r"my\ meas\,ure f=1", "my meas,ure", {}, {"f": 1.0}),
        (r"m=x f=1", "m=x", {}, {"f": 1.0}),
        (r"m,tag\ key=tag\ value f=1", "m", {"tag key": "tag value"}, {"f": 1.0}),
        (r"m,k\,1=v\,1,k\=2=v\=2 f=1", "m", {"k,1": "v,1", "k=2": "v=2"}, {"f": 1.0}),
        (r"m field\ key\,x\=y=1", "m", {}, {"field key,x=y": 1.0}),
        (r'm s="say \"hi\""', "m", {}, {"s": 'say "hi"'}),
        (r'm s="back\\slash and \n stays"', "m", {}, {"s": r"back\slash and \n stays"}),
        ('m s="a,b c=d"', "m", {}, {"s": "a,b c=d"}),
        ('m,t="quoted" f=1', "m", {"t": '"quoted"'}, {"f": 1.0}),
        ('m,t=🍭 f="Launch 🚀"', "m", {"t": "🍭"}, {"f": "Launch 🚀"}),
    ],
)
def test_line_protocol_escapes(
    line: str, measurement: str, tags: dict[str, str], fields: dict[str, Any]
) -> None:
    point = parse_line(line, "ns", NOW_NS)
    assert point.measurement == measurement
    assert dict(point.tags) == tags
    assert {name: value.value for name, value in point.fields.items()} == fields


@pytest.mark.parametrize(
    ("written", "read"),
    # The reference's backslash table: with two contiguous backslashes the first escapes.
    [("\\", "\\"), ("\\\\", "\\"), ("\\\\\\", "\\\\"), ("\\\\\\\\", "\\\\"), ("\\" * 5, "\\" * 3)],
)
def test_line_protocol_backslashes(written: str, read: str) -> None:
    point = parse_line(f"m,t=a{written}b f=1", "ns", NOW_NS)
    assert dict(point.tags) == {"t": f"a{read}b"}


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("1.5", "float", 1.5),
        ("1", "float", 1.0),
        ("-1.234456e+78", "float", -1.234456e78),
        (".5", "float", 0.5),
        ("1i", "integer", 1),
        ("-9223372036854775808i", "integer", -(2**63)),
        ("9223372036854775807i", "integer", 2**63 - 1),
        ("0u", "unsigned", 0),
        ("18446744073709551615u", "unsigned", 2**64 - 1),
        *[(word, "boolean", True) for word in ("t", "T", "true", "True", "TRUE")],
        *[(word, "boolean", False) for word in ("f", "F", "false", "False", "FALSE")],
        ('"true"', "string", "true"),
        ('""', "string", ""),
    ],
)
def test_line_protocol_field_types(text: str, kind: str, value: Any) -> None:
    field = parse_line(f"m f={text}", "ns", NOW_NS).fields["f"]
    assert (field.kind, field.value) == (kind, value)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("m", "missing fields"),
        ("m,t=1", "missing fields"),
        ("m ", "invalid field format"),
        (",t=1 f=1", "missing measurement"),
        ("m,=1 f=1", "missing tag key"),
        ("m,t f=1", "missing tag value"),
        ("m,t= f=1", "missing tag value"),
        ("m,t=a=b f=1", "invalid tag format"),
        ("m,t=1,t=2 f=1", "duplicate tags"),
        ("m f", "invalid field format"),
        ("m f=1,g", "invalid field format"),
        ("m =1", "missing field key"),
        ("m f=", "missing field value"),
        ("m f=,g=1", "missing field value"),
        ('m f="open', "unbalanced quotes"),
        ('m f="a"b', "invalid field format"),
        ("m f=1.2.3", "invalid number"),
        ("m f=1i2", "invalid number"),
        ("m f=1.5i", "invalid number"),
        ("m f=-1u", "invalid number"),
        ("m f=NaN", "invalid number"),
        ("m f=null", "invalid number"),
        ("m f=1e999", "invalid float"),
        ("m f=tru", "invalid boolean"),
        ("m f=yes", "invalid boolean"),
        (
            "m f=9223372036854775808i",
            "unable to parse integer 9223372036854775808: "
            'strconv.ParseInt: parsing "9223372036854775808": value out of range',
        ),
        (
            "m f=18446744073709551616u",
            "unable to parse unsigned 18446744073709551616: "
            'strconv.ParseUint: parsing "18446744073709551616": value out of range',
        ),
        ("m f=1 12a", "bad timestamp"),
        ("m f=1 1.5", "bad timestamp"),
        ("m f=1 1 2", "point is invalid"),
        (
            "m f=1 99999999999999999999",
            'strconv.ParseInt: parsing "99999999999999999999": value out of range',
        ),
        (
            "m f=1 9223372036854775807",
            "time outside range -9223372036854775806 - 9223372036854775806",
        ),
        ("m f=1\r", "invalid number"),
    ],
)
def test_line_protocol_errors(line: str, reason: str) -> None:
    with pytest.raises(LineSyntaxError) as error:
        parse_line(line, "ns", NOW_NS)
    assert str(error.value) == reason


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        ("s", 1_700_000_000_000_000_000),
        ("ms", 1_700_000_000_000_000),
        ("us", 1_700_000_000_000),
        ("ns", 1_700_000_000),
    ],
)
def test_line_protocol_precisions(precision: str, expected: int) -> None:
    assert parse_line("m f=1 1700000000", precision, NOW_NS).time_ns == expected


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        ("ns", NOW_NS),
        ("us", 1_700_000_000_123_456_000),
        ("ms", 1_700_000_000_123_000_000),
        ("s", 1_700_000_000_000_000_000),
    ],
)
def test_missing_timestamp_is_server_time_in_the_precision(precision: str, expected: int) -> None:
    assert parse_line("m f=1", precision, NOW_NS).time_ns == expected


def test_blank_lines_comments_and_line_numbers() -> None:
    body = (
        '# comment\n\n   m f=1 1\n\tm,t=x f="multi\nline" 2\nbroken\n'
        "  # indented comment\nm f=2 3\n"
    )
    result = parse(body, "ns", NOW_NS)
    assert [p.time_ns for p in result.points] == [1, 2, 3]
    assert result.points[1].fields["f"].value == "multi\nline"
    assert [(e.line, e.text, e.reason) for e in result.errors] == [(6, "broken", "missing fields")]
    assert result.errors[0].message == "unable to parse 'broken': missing fields"


def test_tags_are_sorted_by_key() -> None:
    assert parse_line("m,b=2,a=1,c=3 f=1", "ns", NOW_NS).tags == (
        ("a", "1"),
        ("b", "2"),
        ("c", "3"),
    )


# --- health, ping, ready, setup -----------------------------------------------------------


def test_health_ping_ready_through_the_client(double: InfluxDBDouble) -> None:
    with InfluxDBClient(url=double.url, token="unused") as client:
        assert client.ping() is True
        assert client.version() == "v2.7.12"
        assert client.build() == "OSS"
        assert client.ready().status == "ready"
    health = call(double.url, "GET", "/health")
    assert health.status == 200
    assert health.body["status"] == "pass" and health.body["name"] == "influxdb"
    assert "double" in health.body["commit"]
    assert "Double" in health.headers["Server"]
    ping = call(double.url, "HEAD", "/ping")
    assert ping.status == 204 and ping.headers["X-Influxdb-Version"] == "v2.7.12"


def test_setup_once_then_422(double: InfluxDBDouble) -> None:
    assert call(double.url, "GET", "/api/v2/setup").body == {"allowed": True}
    request = {
        "username": "admin",
        "password": PASSWORD,
        "org": "o",
        "bucket": "b",
        "retentionPeriodSeconds": 7 * 86_400,
        "token": "my-admin-token",
    }
    first = call(double.url, "POST", "/api/v2/setup", body=request)
    assert first.status == 201
    assert first.body["auth"]["token"] == "my-admin-token"
    assert first.body["auth"]["description"] == "admin's Token"
    assert first.body["bucket"]["retentionRules"][0]["everySeconds"] == 604_800
    assert first.body["user"]["name"] == "admin" and first.body["org"]["name"] == "o"
    assert call(double.url, "GET", "/api/v2/setup").body == {"allowed": False}
    again = call(double.url, "POST", "/api/v2/setup", body=request)
    assert (again.status, again.body) == (
        422,
        {"code": "conflict", "message": "onboarding has already been completed"},
    )
    assert again.headers["X-Platform-Error-Code"] == "conflict"


@pytest.mark.parametrize(
    ("request_body", "status", "message"),
    [
        ({"username": "a", "org": "o"}, 400, "onboard failed, missing value"),
        (
            {"username": "a", "org": "o", "bucket": "b", "password": "short"},
            400,
            "passwords must be at least 8 characters long",
        ),
        (
            {"username": "a", "org": "o", "bucket": "b", "retentionPeriodSeconds": 60},
            500,
            "retention policy duration must be at least 1h0m0s",
        ),
    ],
)
def test_setup_validation(
    double: InfluxDBDouble, request_body: dict[str, Any], status: int, message: str
) -> None:
    reply = call(double.url, "POST", "/api/v2/setup", body=request_body)
    assert (reply.status, reply.body["message"]) == (status, message)
    assert call(double.url, "GET", "/api/v2/setup").body == {"allowed": True}


def test_setup_from_docker_init_environment() -> None:
    environ = {
        "DOCKER_INFLUXDB_INIT_MODE": "setup",
        "DOCKER_INFLUXDB_INIT_USERNAME": "admin",
        "DOCKER_INFLUXDB_INIT_PASSWORD": PASSWORD,
        "DOCKER_INFLUXDB_INIT_ORG": "streamlab",
        "DOCKER_INFLUXDB_INIT_BUCKET": "weather",
        "DOCKER_INFLUXDB_INIT_RETENTION": "1w",
        "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN": "env-admin-token",
    }
    with InfluxDBDouble(config=config_from_env(environ)) as double:
        assert call(double.url, "GET", "/api/v2/setup").body == {"allowed": False}
        with InfluxDBClient(url=double.url, token="env-admin-token", org="streamlab") as client:
            bucket = client.buckets_api().find_bucket_by_name("weather")
            assert bucket.retention_rules[0].every_seconds == 604_800


def test_setup_reads_compose_secret_files(tmp_path: Path) -> None:
    (tmp_path / "password").write_text(PASSWORD + "\n")
    (tmp_path / "token").write_text("file-admin-token\n")
    environ = {
        "DOCKER_INFLUXDB_INIT_MODE": "setup",
        "DOCKER_INFLUXDB_INIT_USERNAME": "admin",
        "DOCKER_INFLUXDB_INIT_PASSWORD_FILE": str(tmp_path / "password"),
        "DOCKER_INFLUXDB_INIT_ORG": "streamlab",
        "DOCKER_INFLUXDB_INIT_BUCKET": "weather",
        "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE": str(tmp_path / "token"),
    }
    with (
        InfluxDBDouble(config=config_from_env(environ)) as double,
        InfluxDBClient(url=double.url, token="file-admin-token", org="streamlab") as client,
    ):
        assert client.buckets_api().find_bucket_by_name("weather") is not None
    environ["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="ADMIN_TOKEN_FILE"):
        config_from_env(environ)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", 0), ("0", 0), ("1w", 604_800), ("30d", 2_592_000), ("72h30m", 261_000), ("90m", 5_400)],
)
def test_retention_durations(text: str, seconds: int) -> None:
    assert parse_duration_seconds(text) == seconds


@pytest.mark.parametrize(
    "environ",
    [
        {"DOCKER_INFLUXDB_INIT_MODE": "setup"},
        {"DOCKER_INFLUXDB_INIT_MODE": "upgrade"},
        {
            "DOCKER_INFLUXDB_INIT_MODE": "setup",
            "DOCKER_INFLUXDB_INIT_USERNAME": "a",
            "DOCKER_INFLUXDB_INIT_PASSWORD": PASSWORD,
            "DOCKER_INFLUXDB_INIT_ORG": "o",
            "DOCKER_INFLUXDB_INIT_BUCKET": "b",
            "DOCKER_INFLUXDB_INIT_RETENTION": "one week",
        },
        {
            "DOCKER_INFLUXDB_INIT_MODE": "setup",
            "DOCKER_INFLUXDB_INIT_USERNAME": "a",
            "DOCKER_INFLUXDB_INIT_PASSWORD": PASSWORD,
            "DOCKER_INFLUXDB_INIT_ORG": "o",
            "DOCKER_INFLUXDB_INIT_BUCKET": "b",
            "DOCKER_INFLUXDB_INIT_RETENTION": "30m",
        },
    ],
)
def test_bad_init_environment_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="DOCKER_INFLUXDB_INIT_"):
        config_from_env(environ)


# --- orgs, buckets, authorizations ------------------------------------------------------------


def test_orgs_and_buckets_through_the_client(lab: Lab) -> None:
    with lab.client(lab.admin_token) as admin:
        orgs = admin.organizations_api()
        assert [o.name for o in orgs.find_organizations(org="other")] == ["other"]
        assert {o.name for o in orgs.find_organizations()} == {"lab", "other"}
        buckets = admin.buckets_api()
        created = buckets.create_bucket(
            bucket_name="metrics",
            org="lab",
            retention_rules=BucketRetentionRules(type="expire", every_seconds=86_400),
        )
        assert created.retention_rules[0].every_seconds == 86_400
        assert buckets.find_bucket_by_id(created.id).name == "metrics"
        names = {b.name for b in buckets.find_buckets(org="lab").buckets}
        assert names == {"bucket-a", "bucket-b", "metrics", "_tasks", "_monitoring"}
        buckets.delete_bucket(created)
        with pytest.raises(ApiException) as error:
            buckets.find_bucket_by_id(created.id)
        assert api_error(error) == (404, {"code": "not found", "message": "bucket not found"})


@pytest.mark.parametrize(
    ("name", "rules", "status", "message"),
    [
        ("bucket-a", [], 422, "bucket with name bucket-a already exists"),
        ("_mine", [], 422, "bucket name _mine is invalid. Buckets may not start with underscore"),
        (
            "short",
            [{"type": "expire", "everySeconds": 60}],
            500,
            "retention policy duration must be at least 1h0m0s",
        ),
        (
            "neg",
            [{"type": "expire", "everySeconds": -1}],
            422,
            "expiration seconds cannot be negative",
        ),
    ],
)
def test_bucket_creation_rules(
    lab: Lab, name: str, rules: list[dict[str, Any]], status: int, message: str
) -> None:
    body = {"orgID": lab.org_id, "name": name, "retentionRules": rules}
    reply = call(lab.double.url, "POST", "/api/v2/buckets", lab.admin_token, body)
    assert (reply.status, reply.body["message"]) == (status, message)


def test_duplicate_org_is_422_and_system_buckets_cannot_be_deleted(lab: Lab) -> None:
    reply = call(lab.double.url, "POST", "/api/v2/orgs", lab.admin_token, {"name": "other"})
    assert (reply.status, reply.body["message"]) == (
        422,
        "organization with name other already exists",
    )
    system = lab.double.store.bucket_named(lab.org_id, "_tasks")
    reply = call(lab.double.url, "DELETE", f"/api/v2/buckets/{system.id}", lab.admin_token)
    assert (reply.status, reply.body["message"]) == (400, "system buckets cannot be deleted")


def test_authorizations_list_filter_update_delete(lab: Lab) -> None:
    with lab.client(lab.admin_token) as admin:
        auths = admin.authorizations_api()
        in_lab = auths.find_authorizations(org="lab")
        assert {a.token for a in in_lab} >= {lab.admin_token, lab.write_a_token, lab.read_a_token}
        assert lab.other_org_token not in {a.token for a in in_lab}
        assert {a.token for a in auths.find_authorizations(user="admin")} >= {lab.other_org_token}
        write_auth = next(a for a in in_lab if a.token == lab.write_a_token)
        resource = write_auth.permissions[0].resource
        assert (resource.name, resource.org) == ("bucket-a", "lab")
        write_auth.status = "inactive"
        assert auths.update_authorization(write_auth).status == "inactive"
        auths.delete_authorization(write_auth)
        assert lab.write_a_token not in {a.token for a in auths.find_authorizations()}
    reply = write_lines(lab, lab.write_a_token, "m f=1")
    assert (reply.status, reply.body) == (
        401,
        {"code": "unauthorized", "message": "unauthorized access"},
    )


def test_authorization_request_validation(lab: Lab) -> None:
    url, token = lab.double.url, lab.admin_token
    bucket_perm = {"action": "read", "resource": {"type": "buckets", "orgID": lab.other_org_id}}
    cases = [
        ({"orgID": lab.org_id, "permissions": []}, 400, "authorization must include permissions"),
        (
            {"orgID": lab.org_id, "permissions": [{"action": "read", "resource": {"type": "x"}}]},
            400,
            "invalid resource type for permission: unknown resource type for permission",
        ),
        (
            {
                "orgID": lab.org_id,
                "permissions": [{"action": "delete", "resource": {"type": "buckets"}}],
            },
            400,
            "invalid action type for permission: unknown action for permission",
        ),
        ({"permissions": [bucket_perm]}, 400, "org id required"),
        (
            {"orgID": lab.org_id, "permissions": [bucket_perm]},
            400,
            f"permission read:orgs/{lab.other_org_id}/buckets is not for org id {lab.org_id}",
        ),
    ]
    for body, status, message in cases:
        reply = call(url, "POST", "/api/v2/authorizations", token, body)
        assert (reply.status, reply.body["message"]) == (status, message), body


# --- writes ----------------------------------------------------------------------------------


def test_synchronous_gzip_write_stores_every_field_type(lab: Lab) -> None:
    with lab.client(lab.write_a_token, enable_gzip=True) as client:
        point = (
            Point("weather")
            .tag("station", "SEA 1")
            .tag("kind", "a,b=c")
            .field("temp", 21.5)
            .field("count", 3)
            .field("ok", True)
            .field("note", 'said "hi" \\o/')
            .time(1_700_000_000, WritePrecision.S)
        )
        client.write_api(write_options=SYNCHRONOUS).write(
            "bucket-a",
            "lab",
            [point, "weather,station=SF big=18446744073709551615u 1700000001"],
            write_precision=WritePrecision.S,
        )
    stored = lab.double.points("bucket-a", "weather")
    assert stored == [
        {
            "measurement": "weather",
            "tags": {"kind": "a,b=c", "station": "SEA 1"},
            "fields": {"count": 3, "note": 'said "hi" \\o/', "ok": True, "temp": 21.5},
            "field_types": {
                "count": "integer",
                "note": "string",
                "ok": "boolean",
                "temp": "float",
            },
            "time_ns": 1_700_000_000_000_000_000,
        },
        {
            "measurement": "weather",
            "tags": {"station": "SF"},
            "fields": {"big": 2**64 - 1},
            "field_types": {"big": "unsigned"},
            "time_ns": 1_700_000_001_000_000_000,
        },
    ]
    assert lab.double.stats.snapshot()["write_requests_gzip"] == 1


def test_batching_write_api_sends_gzip_batches(lab: Lab) -> None:
    options = WriteOptions(batch_size=50, flush_interval=60_000, max_retries=0)
    with (
        lab.client(lab.write_a_token, enable_gzip=True) as client,
        client.write_api(write_options=options) as writer,
    ):
        for i in range(500):
            writer.write("bucket-a", "lab", f"rows,part={i % 5} value={i}i {i}")
    assert len(lab.double.points("bucket-a", "rows")) == 500
    stats = lab.double.stats.snapshot()
    assert stats["write_requests"] == stats["write_requests_gzip"] == 10
    assert stats["lines_written"] == 500 and lab.double.write_requests == 10


def test_same_series_and_time_overwrites_with_union_of_fields(lab: Lab) -> None:
    batch = "m,host=a x=1,y=2 10\nm,host=a x=1,y=2 20\nm,host=b x=5 10"
    assert write_lines(lab, lab.write_a_token, batch).status == 204
    assert write_lines(lab, lab.write_a_token, batch).status == 204  # a replayed batch
    assert write_lines(lab, lab.write_a_token, "m,host=a x=9,z=3 10").status == 204
    stored = [(p["tags"]["host"], p["time_ns"], p["fields"]) for p in lab.double.points("bucket-a")]
    assert stored == [
        ("a", 10, {"x": 9.0, "y": 2.0, "z": 3.0}),
        ("a", 20, {"x": 1.0, "y": 2.0}),
        ("b", 10, {"x": 5.0}),
    ]


def test_concurrent_writers_lose_nothing(lab: Lab) -> None:
    def writer(worker: int) -> None:
        with lab.client(lab.write_a_token, enable_gzip=True) as client:
            api = client.write_api(write_options=SYNCHRONOUS)
            for batch in range(10):
                lines = [f"c,w={worker} v={batch * 20 + i}i {batch * 20 + i}" for i in range(20)]
                api.write("bucket-a", "lab", "\n".join(lines))

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lab.double.points("bucket-a", "c")) == 8 * 200
    assert lab.double.write_requests == 80 and lab.double.lines_written == 1_600


def test_a_malformed_line_rejects_the_whole_batch_with_its_line_number(lab: Lab) -> None:
    body = "m f=1 1\n# fine\nm f=2 2\nm f=oops 3\nm,t f=1 4\n"
    reply = write_lines(lab, lab.write_a_token, body)
    assert reply.status == 400
    assert reply.body == {
        "code": "invalid",
        "message": "unable to parse 'm f=oops 3': invalid boolean\n"
        "unable to parse 'm,t f=1 4': missing tag value",
        "line": 4,
    }
    assert lab.double.points("bucket-a") == []
    with lab.client(lab.write_a_token) as client, pytest.raises(ApiException) as error:
        client.write_api(write_options=SYNCHRONOUS).write("bucket-a", "lab", "ok f=1\nbad")
    assert api_error(error)[0] == 400
    assert "unable to parse 'bad': missing fields" in api_error(error)[1]["message"]


@pytest.mark.parametrize(
    ("query", "body", "headers", "status", "message"),
    [
        (
            {"precision": "m"},
            "m f=1",
            {},
            400,
            "invalid precision; valid precision units are ns, us, ms, and s",
        ),
        ({"bucket": ""}, "m f=1", {}, 404, "bucket not found"),
        ({"org": ""}, "m f=1", {}, 400, "Please provide either orgID or org"),
        ({"org": "nope"}, "m f=1", {}, 404, 'organization name "nope" not found'),
        ({"orgID": "0123456789abcdef"}, "m f=1", {}, 404, "organization not found"),
        ({"bucket": "nope"}, "m f=1", {}, 404, 'bucket "nope" not found'),
        ({}, "", {}, 400, "writing requires points"),
        (
            {},
            "m f=1",
            {"Content-Encoding": "gzip"},
            400,
            "unable to read data: gzip: Not a gzipped file (b'm ')",
        ),
    ],
)
def test_write_request_errors(
    lab: Lab, query: dict[str, str], body: str, headers: dict[str, str], status: int, message: str
) -> None:
    params = {"org": "lab", "bucket": "bucket-a", **query}
    path = "/api/v2/write?" + "&".join(f"{k}={v}" for k, v in params.items())
    reply = call(lab.double.url, "POST", path, lab.admin_token, body.encode(), headers)
    assert (reply.status, reply.body["message"]) == (status, message)


def test_write_by_ids_and_bearer_scheme(lab: Lab) -> None:
    path = f"/api/v2/write?orgID={lab.org_id}&bucket={lab.bucket_a.id}&precision=ms"
    reply = call(
        lab.double.url,
        "POST",
        path,
        body=b"m f=1 5",
        headers={"Authorization": f"Bearer {lab.write_a_token}"},
    )
    assert reply.status == 204
    assert lab.double.points("bucket-a")[0]["time_ns"] == 5_000_000


def test_too_large_body_is_413() -> None:
    with InfluxDBDouble(config=DoubleConfig(max_body_bytes=100)) as double:
        token = double.setup("admin", PASSWORD, "o", "b").auth.token
        big = gzip.compress(b"m f=1\n" * 50)
        reply = call(
            double.url,
            "POST",
            "/api/v2/write?org=o&bucket=b",
            token,
            big,
            {"Content-Encoding": "gzip"},
        )
        assert (reply.status, reply.body) == (
            413,
            {
                "code": "request too large",
                "message": "unable to read data: points batch is too large",
            },
        )
        assert double.points("b") == []


def test_refused_points_are_a_partial_write_422(lab: Lab) -> None:
    assert write_lines(lab, lab.write_a_token, "m f=1 1").status == 204
    reply = write_lines(lab, lab.write_a_token, "m f=2i 2\nm f=3 3\nm g=1 4")
    assert (reply.status, reply.body) == (
        422,
        {
            "code": "unprocessable entity",
            "message": "failure writing points to database: partial write: field type conflict: "
            'input field "f" on measurement "m" is type integer, already exists as type float '
            "dropped=1",
        },
    )
    assert [p["time_ns"] for p in lab.double.points("bucket-a")] == [1, 3, 4]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("m time=1 1", 'invalid field name: input field "time" on measurement "m" is invalid'),
        ("m,time=x f=1 1", 'invalid tag key: input tag "time" on measurement "m" is invalid'),
        (
            "_m f=1 1",
            'invalid measurement "_m" on measurement "_m": names beginning with an '
            "underscore are reserved for InfluxDB system use",
        ),
        (
            "m _f=1 1",
            'invalid field key "_f" on measurement "m": names beginning with an '
            "underscore are reserved for InfluxDB system use",
        ),
    ],
)
def test_reserved_names_are_dropped(lab: Lab, line: str, reason: str) -> None:
    reply = write_lines(lab, lab.write_a_token, line)
    assert reply.status == 422
    assert (
        reply.body["message"]
        == f"failure writing points to database: partial write: {reason} dropped=1"
    )


def test_a_time_field_beside_others_is_dropped_silently(lab: Lab) -> None:
    assert write_lines(lab, lab.write_a_token, "m time=1,f=2 1").status == 204
    assert lab.double.points("bucket-a")[0]["fields"] == {"f": 2.0}


def test_points_older_than_the_retention_are_dropped() -> None:
    clock = [NOW_NS]
    with InfluxDBDouble(clock=lambda: clock[0]) as double:
        token = double.setup("admin", PASSWORD, "o", "b", retention_seconds=3_600).auth.token
        old, recent = NOW_NS - 7_200 * 10**9, NOW_NS - 60 * 10**9
        body = f"m f=1 {old}\nm f=2 {recent}".encode()
        reply = call(double.url, "POST", "/api/v2/write?org=o&bucket=b", token, body)
        assert (reply.status, reply.body["message"]) == (
            422,
            "failure writing points to database: partial write: points beyond retention policy "
            "dropped=1",
        )
        assert [p["time_ns"] for p in double.points("b")] == [recent]


def test_query_is_not_implemented_and_says_why(lab: Lab) -> None:
    body = {"query": 'from(bucket: "bucket-a") |> range(start: -1h)'}
    reply = call(lab.double.url, "POST", "/api/v2/query", lab.admin_token, body)
    assert reply.status == 501 and reply.body["code"] == "not implemented"
    assert "test double" in reply.body["message"] and "Flux" in reply.body["message"]
    assert call(lab.double.url, "POST", "/api/v2/query", None, body).status == 401


# --- permissions -----------------------------------------------------------------------------


def test_no_token_or_unknown_token_is_401(lab: Lab) -> None:
    expected = (401, {"code": "unauthorized", "message": "unauthorized access"})
    for token in (None, "not-a-token"):
        for method, path in (
            ("GET", "/api/v2/buckets"),
            ("POST", "/api/v2/write?org=lab&bucket=bucket-a"),
        ):
            reply = call(lab.double.url, method, path, token, b"m f=1")
            assert (reply.status, reply.body) == expected, (token, path)
    basic = call(lab.double.url, "GET", "/api/v2/buckets", headers={"Authorization": "Basic eDp5"})
    assert basic.status == 401


def test_write_only_token_writes_its_bucket_and_nothing_else(lab: Lab) -> None:
    assert write_lines(lab, lab.write_a_token, "m f=1").status == 204
    other = write_lines(lab, lab.write_a_token, "m f=1", bucket="bucket-b")
    assert (other.status, other.body) == (
        403,
        {"code": "forbidden", "message": "insufficient permissions for write"},
    )
    with lab.client(lab.write_a_token) as client:
        assert client.buckets_api().find_buckets().buckets == []
        with pytest.raises(ApiException) as error:
            client.buckets_api().find_bucket_by_id(lab.bucket_a.id)
        assert api_error(error) == (
            401,
            {
                "code": "unauthorized",
                "message": f"read:orgs/{lab.org_id}/buckets/{lab.bucket_a.id} is unauthorized",
            },
        )
        assert client.organizations_api().find_organizations(org="lab") == []
        with pytest.raises(ApiException) as error:
            client.buckets_api().create_bucket(bucket_name="new", org=lab.org_id)
        assert api_error(error) == (
            401,
            {"code": "unauthorized", "message": f"write:orgs/{lab.org_id}/buckets is unauthorized"},
        )


def test_read_only_token_reads_its_bucket_and_cannot_write(lab: Lab) -> None:
    reply = write_lines(lab, lab.read_a_token, "m f=1")
    assert (reply.status, reply.body["message"]) == (403, "insufficient permissions for write")
    with lab.client(lab.read_a_token) as client:
        buckets = client.buckets_api()
        assert [b.name for b in buckets.find_buckets().buckets] == ["bucket-a"]
        assert buckets.find_bucket_by_id(lab.bucket_a.id).name == "bucket-a"
        with pytest.raises(ApiException) as error:
            buckets.find_bucket_by_id(lab.bucket_b.id)
        assert api_error(error)[0] == 401
        with pytest.raises(ApiException) as error:
            buckets.delete_bucket(lab.bucket_a.id)
        assert api_error(error) == (
            401,
            {
                "code": "unauthorized",
                "message": f"write:orgs/{lab.org_id}/buckets/{lab.bucket_a.id} is unauthorized",
            },
        )


def test_a_token_of_another_org_cannot_write_here(lab: Lab) -> None:
    reply = write_lines(lab, lab.other_org_token, "m f=1")
    assert (reply.status, reply.body["message"]) == (403, "insufficient permissions for write")
    own = write_lines(lab, lab.other_org_token, "m f=1", org="other", bucket="bucket-o")
    assert own.status == 204
    assert len(lab.double.points("bucket-o")) == 1
    assert lab.double.points("bucket-a") == []


def test_an_all_access_token_covers_its_org_only(lab: Lab) -> None:
    admin = lab.double.store.authorization_for_token(lab.admin_token)
    all_access = lab.double.store.create_authorization(
        lab.org_id, admin.user_id, all_access_permissions(lab.org_id), "all access", "active"
    )
    assert write_lines(lab, all_access.token, "m f=1", bucket="bucket-b").status == 204
    listed = call(lab.double.url, "GET", "/api/v2/buckets", all_access.token).body["buckets"]
    assert {b["name"] for b in listed} == {"bucket-a", "bucket-b", "_tasks", "_monitoring"}
    reply = write_lines(lab, all_access.token, "m f=1", org="other", bucket="bucket-o")
    assert (reply.status, reply.body["message"]) == (403, "insufficient permissions for write")


def test_inactive_token_is_refused(lab: Lab) -> None:
    auth = lab.double.store.authorization_for_token(lab.read_a_token)
    path = f"/api/v2/authorizations/{auth.id}"
    patched = call(lab.double.url, "PATCH", path, lab.admin_token, {"status": "inactive"})
    assert (patched.status, patched.body["status"]) == (200, "inactive")
    reply = call(lab.double.url, "GET", f"/api/v2/buckets/{lab.bucket_a.id}", lab.read_a_token)
    assert (reply.status, reply.body["message"]) == (401, "token is inactive")
    listed = call(lab.double.url, "GET", "/api/v2/buckets", lab.read_a_token)
    assert (listed.status, listed.body["buckets"]) == (200, [])
    with InfluxDBDouble() as double:
        token = double.setup("admin", PASSWORD, "o", "b").auth.token
        call(
            double.url,
            "PATCH",
            f"/api/v2/authorizations/{_auth_id(double, token)}",
            token,
            {"status": "inactive"},
        )
        reply = call(double.url, "POST", "/api/v2/write?org=o&bucket=b", token, b"m f=1")
        assert (reply.status, reply.body["message"]) == (403, "insufficient permissions for write")


def _auth_id(double: InfluxDBDouble, token: str) -> str:
    auth = double.store.authorization_for_token(token)
    assert auth is not None
    return auth.id


def test_tokens_cannot_grant_more_than_they_hold(lab: Lab) -> None:
    holder = lab.double.store.authorization_for_token(lab.admin_token)
    url = lab.double.url
    body = {
        "orgID": lab.org_id,
        "permissions": [
            {"action": "write", "resource": {"type": "authorizations", "orgID": lab.org_id}},
            {"action": "write", "resource": {"type": "users", "id": holder.user_id}},
            {
                "action": "read",
                "resource": {"type": "buckets", "orgID": lab.org_id, "id": lab.bucket_a.id},
            },
        ],
    }
    limited = call(url, "POST", "/api/v2/authorizations", lab.admin_token, body)
    assert limited.status == 201
    token = limited.body["token"]
    wider = {"action": "read", "resource": {"type": "buckets", "orgID": lab.org_id}}
    reply = call(
        url, "POST", "/api/v2/authorizations", token, {"orgID": lab.org_id, "permissions": [wider]}
    )
    assert (reply.status, reply.body) == (
        403,
        {
            "code": "forbidden",
            "message": f"permission read:orgs/{lab.org_id}/buckets is not allowed: "
            f"read:orgs/{lab.org_id}/buckets is unauthorized",
        },
    )
    narrow = body["permissions"][2]
    assert (
        call(
            url,
            "POST",
            "/api/v2/authorizations",
            token,
            {"orgID": lab.org_id, "permissions": [narrow]},
        ).status
        == 201
    )
    listed = call(url, "GET", "/api/v2/authorizations", lab.read_a_token)
    assert (listed.status, listed.body["authorizations"]) == (200, [])


# --- inspection API, routing, CLI ---------------------------------------------------------


def test_inspection_api(lab: Lab) -> None:
    write_lines(lab, lab.write_a_token, "cpu,host=a v=1 1\nmem,host=a v=2 1")
    url = lab.double.url
    points = call(url, "GET", "/_double/points?bucket=bucket-a&org=lab&measurement=cpu")
    assert points.body == lab.double.points("bucket-a", "cpu", org="lab")
    assert [p["measurement"] for p in points.body] == ["cpu"]
    lab.double.store.create_bucket(lab.other_org_id, "bucket-a", "", 0)
    ambiguous = call(url, "GET", "/_double/points?bucket=bucket-a")
    assert ambiguous.status == 400 and "org" in ambiguous.body["message"]
    stats = call(url, "GET", "/_double/stats").body
    assert stats["requests"]["POST /api/v2/write"] == 1
    assert (stats["write_requests"], stats["lines_written"]) == (1, 2)
    assert call(url, "POST", "/_double/reset?scope=points").status == 200
    assert lab.double.points("bucket-a", org="lab") == []
    assert lab.double.write_requests == 0
    assert call(url, "GET", "/api/v2/buckets", lab.admin_token).status == 200
    assert call(url, "POST", "/_double/reset").body == {"reset": "all"}
    assert call(url, "GET", "/api/v2/setup").body == {"allowed": True}


def test_unknown_routes(double: InfluxDBDouble) -> None:
    assert call(double.url, "GET", "/nowhere").body == {
        "code": "not found",
        "message": "path not found",
    }
    missing = call(double.url, "GET", "/api/v2/dashboards")
    assert missing.status == 501 and "test double" in missing.body["message"]
    assert call(double.url, "PUT", "/api/v2/buckets").status == 405


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_runs_the_double_with_init_setup() -> None:
    port = _free_port()
    environ = {
        **os.environ,
        "PYTHONPATH": str(TESTS_DIR),
        "DOCKER_INFLUXDB_INIT_MODE": "setup",
        "DOCKER_INFLUXDB_INIT_USERNAME": "admin",
        "DOCKER_INFLUXDB_INIT_PASSWORD": PASSWORD,
        "DOCKER_INFLUXDB_INIT_ORG": "streamlab",
        "DOCKER_INFLUXDB_INIT_BUCKET": "weather",
        "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN": "cli-token",
    }
    command = [sys.executable, "-m", "doubles.influxdb", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=environ, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if call(url, "GET", "/health").status == 200:
                    break
            except urllib.error.URLError:
                time.sleep(0.05)
        reply = call(
            url, "POST", "/api/v2/write?org=streamlab&bucket=weather", "cli-token", b"m f=1"
        )
        assert reply.status == 204
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert b"TEST DOUBLE" in stderr


def test_write_listeners_see_stored_points() -> None:
    """Each write tells the listeners (measurement, tags, time) of its points, whichever
    path it took: uniform (columns) or line by line (two shapes in one body)."""
    seen: list[tuple[str, list, int]] = []
    with InfluxDBDouble() as influx:
        influx.store.write_listeners.append(lambda b, keys, ns: seen.append((b, list(keys), ns)))
        token = secrets.token_hex(8)
        influx.setup("admin", "password123", "org", "bucket", token=token)
        with InfluxDBClient(url=influx.url, token=token, org="org") as client:
            write = client.write_api(write_options=SYNCHRONOUS).write
            write("bucket", "org", "m,b=y,a=x v=1i 1\nm,b=y,a=z v=2i 2")
            write("bucket", "org", 'm v=1i 3\nn,t=a s="x" 4')
    assert [(bucket, keys) for bucket, keys, _ in seen] == [
        ("bucket", [("m", (("a", "x"), ("b", "y")), 1), ("m", (("a", "z"), ("b", "y")), 2)]),
        ("bucket", [("m", (), 3), ("n", (("t", "a"),), 4)]),
    ]
    assert all(ns > 0 for _, _, ns in seen)


def test_patch_bucket_changes_retention_and_name_only_as_asked(lab: Lab) -> None:
    url, token = lab.double.url, lab.admin_token
    path = f"/api/v2/buckets/{lab.bucket_a.id}"
    two_weeks = {"retentionRules": [{"type": "expire", "everySeconds": 1_209_600}]}
    reply = call(url, "PATCH", path, token=token, body=two_weeks)
    assert reply.status == 200
    assert reply.body["retentionRules"][0]["everySeconds"] == 1_209_600
    assert reply.body["name"] == lab.bucket_a.name
    renamed = call(url, "PATCH", path, token=token, body={"name": "climate"})
    assert (renamed.status, renamed.body["name"]) == (200, "climate")
    infinite = call(url, "PATCH", path, token=token, body={"retentionRules": []})
    assert infinite.body["retentionRules"][0]["everySeconds"] == 0
    short = {"retentionRules": [{"type": "expire", "everySeconds": 60}]}
    assert call(url, "PATCH", path, token=token, body=short).status >= 400
    taken = call(url, "PATCH", path, token=token, body={"name": lab.bucket_b.name})
    assert taken.status == 422  # as for a create: InfluxDB answers a name conflict with 422
    refused = call(url, "PATCH", path, token=lab.read_a_token, body=two_weeks)
    assert refused.status in (401, 403, 404)
