"""The Grafana 12 test double, driven by grafana-client (what the provisioner uses) where it can
be, and by raw HTTP for what the client hides: status codes, exact bodies, headers.

What each test pins is Grafana's documented (or, where the docs lag, its source's) behaviour;
the double must never be laxer than Grafana.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaBadInputError,
    GrafanaClientError,
    GrafanaUnauthorizedError,
)

from doubles.grafana import DoubleConfig, GrafanaDouble
from doubles.grafana.config import ConfigError, config_from_env
from streamlab.settings import Settings

TESTS_DIR = Path(__file__).resolve().parents[1]
PASSWORD = "s3cret-admin-password"
TAG = {"GRAFANA_IMAGE_TAG": "12.2.1"}  # what compose passes the double's container
ADMIN = ("admin", PASSWORD)
TOKEN = "glsa_streamlab_test_token"
INFLUX_TOKEN = "influx-read-token-42"


# --- helpers -----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes


def call(
    url: str,
    method: str,
    path: str,
    auth: tuple[str, str] | str | None = ADMIN,
    body: Any = None,
) -> Reply:
    """One raw HTTP request; auth is (user, password) for Basic, a str for Bearer."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if isinstance(auth, tuple):
        basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
    elif isinstance(auth, str):
        request.add_header("Authorization", f"Bearer {auth}")
    try:
        with urllib.request.urlopen(request) as response:
            return _reply(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return _reply(error.code, error.read(), error.headers)


def _reply(status: int, raw: bytes, headers: Any) -> Reply:
    return Reply(status, json.loads(raw) if raw else None, dict(headers.items()), raw)


def influx_datasource(**overrides: Any) -> dict[str, Any]:
    """What the provisioner sends for StreamLab's InfluxDB data source."""
    return {
        "uid": "influxdb",
        "name": "InfluxDB",
        "type": "influxdb",
        "access": "proxy",
        "url": "http://influxdb:8086",
        "jsonData": {"version": "Flux", "organization": "streamlab", "defaultBucket": "data"},
        "secureJsonData": {"token": INFLUX_TOKEN},
        **overrides,
    }


def dashboard_body(title: str = "Streams", **model: Any) -> dict[str, Any]:
    return {"dashboard": {"title": title, "panels": [], **model}, "overwrite": False}


@pytest.fixture
def double() -> Iterator[GrafanaDouble]:
    config = DoubleConfig(admin_password=PASSWORD, service_account_tokens=frozenset({TOKEN}))
    with GrafanaDouble(config=config) as running:
        yield running


@pytest.fixture
def api(double: GrafanaDouble) -> GrafanaApi:
    return GrafanaApi(auth=ADMIN, host=double.host, port=double.port, protocol="http")


# --- health, identity, authentication ------------------------------------------------------


def test_health_needs_no_credentials_and_says_it_is_the_double() -> None:
    with GrafanaDouble(config=DoubleConfig(version="12.2.1")) as grafana:
        reply = call(grafana.url, "GET", "/api/health", auth=None)
        head = call(grafana.url, "HEAD", "/api/health", auth=None)
    assert reply.status == 200
    assert reply.body == {
        "database": "ok",
        "version": "12.2.1-double",
        "commit": "streamlab-grafana-test-double",
    }
    assert reply.headers["Server"] == "StreamLab-Grafana-Test-Double"
    assert reply.headers["Content-Type"] == "application/json"
    assert head.status == 200 and head.raw == b""


def test_reported_version_follows_the_image_tag() -> None:
    config = config_from_env({"GRAFANA_IMAGE_TAG": "12.3.0"})
    with GrafanaDouble(config=config) as grafana:
        assert call(grafana.url, "GET", "/api/health", None).body["version"] == "12.3.0-double"


def test_grafana_client_connects_and_reads_the_version(api: GrafanaApi) -> None:
    api.connect()
    # grafana-client drops everything after the first "-": what a version check compares.
    assert api.version == "12.2.1"


def test_no_anonymous_access(double: GrafanaDouble) -> None:
    for path in ("/api/datasources", "/api/folders", "/api/search", "/api/frontend/settings"):
        reply = call(double.url, "GET", path, auth=None)
        assert (reply.status, reply.body) == (401, {"message": "Unauthorized"}), path


def test_wrong_password_or_user_is_401(double: GrafanaDouble) -> None:
    for auth in (("admin", "wrong"), ("someone", PASSWORD), ("admin", "")):
        reply = call(double.url, "GET", "/api/datasources", auth=auth)
        assert reply.status == 401
        assert reply.body["message"] == "Invalid username or password"
        assert reply.body["messageId"] == "password-auth.failed"
    unreadable = call(double.url, "GET", "/api/datasources", auth=None)
    assert unreadable.status == 401


def test_grafana_client_with_a_wrong_password_raises(double: GrafanaDouble) -> None:
    api = GrafanaApi(auth=("admin", "nope"), host=double.host, port=double.port)
    with pytest.raises(GrafanaUnauthorizedError):
        api.datasource.list_datasources()


def test_admin_login_is_case_insensitive(double: GrafanaDouble) -> None:
    assert call(double.url, "GET", "/api/folders", auth=("Admin", PASSWORD)).status == 200


def test_service_account_tokens(double: GrafanaDouble) -> None:
    assert call(double.url, "GET", "/api/folders", auth=TOKEN).status == 200
    api = GrafanaApi.from_url(double.url, credential=TOKEN)
    assert api.folder.create_folder("Made by a token")["createdBy"] == "sa-streamlab-double"
    reply = call(double.url, "GET", "/api/folders", auth="glsa_unknown")
    assert reply.status == 401 and reply.body["message"] == "Invalid API key"


def test_default_admin_credentials_are_grafanas() -> None:
    with GrafanaDouble() as grafana:
        assert call(grafana.url, "GET", "/api/folders", auth=("admin", "admin")).status == 200


# --- data sources --------------------------------------------------------------------------


def test_create_datasource_hides_secure_json_data(api: GrafanaApi, double: GrafanaDouble) -> None:
    created = api.datasource.create_datasource(influx_datasource())
    assert created["message"] == "Datasource added"
    assert (created["id"], created["name"]) == (1, "InfluxDB")
    ds = created["datasource"]
    assert ds["uid"] == "influxdb" and ds["type"] == "influxdb" and ds["access"] == "proxy"
    assert ds["jsonData"]["organization"] == "streamlab"
    assert ds["secureJsonFields"] == {"token": True}
    assert "secureJsonData" not in ds and ds["version"] == 1 and ds["isDefault"] is True
    for path in ("/api/datasources", "/api/datasources/uid/influxdb", "/api/datasources/1"):
        reply = call(double.url, "GET", path)
        assert reply.status == 200 and INFLUX_TOKEN.encode() not in reply.raw, path
    # ...but it reached Grafana: the double shows it to tests.
    secure = call(double.url, "GET", "/_double/datasources/influxdb/secure", auth=None)
    assert secure.body == {"token": INFLUX_TOKEN}
    assert double.datasource_secrets("influxdb") == {"token": INFLUX_TOKEN}
    assert double.datasources()[0]["secureJsonData"] == {"token": INFLUX_TOKEN}


def test_get_datasource_by_uid_name_and_id(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.datasource.create_datasource(influx_datasource(name="Influx Lab"))
    by_uid = api.datasource.get_datasource_by_uid("influxdb")
    assert api.datasource.get_datasource_by_name("Influx Lab") == by_uid
    assert api.datasource.get_datasource_by_id(by_uid["id"]) == by_uid
    assert api.datasource.get_datasource_id_by_name("Influx Lab") == {"id": by_uid["id"]}
    listed = api.datasource.list_datasources()
    assert [item["uid"] for item in listed] == ["influxdb"]
    assert listed[0]["typeName"] == "influxdb" and "secureJsonFields" not in listed[0]
    missing = call(double.url, "GET", "/api/datasources/uid/nope")
    assert (missing.status, missing.body) == (404, {"message": "Data source not found"})
    invalid = call(double.url, "GET", "/api/datasources/abc")
    assert (invalid.status, invalid.body) == (400, {"message": "id is invalid"})


def test_datasource_name_and_uid_conflicts(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.datasource.create_datasource(influx_datasource())
    same_name = call(double.url, "POST", "/api/datasources", body=influx_datasource(uid="other"))
    assert same_name.status == 409
    assert same_name.body == {"message": "data source with the same name already exists"}
    same_uid = call(double.url, "POST", "/api/datasources", body=influx_datasource(name="Other"))
    assert same_uid.status == 409
    assert same_uid.body == {"message": "data source with the same uid already exists"}
    with pytest.raises(GrafanaClientError) as raised:
        api.datasource.create_datasource(influx_datasource())
    assert raised.value.status_code == 409
    assert len(api.datasource.list_datasources()) == 1


@pytest.mark.parametrize(
    "body",
    [
        influx_datasource(type=""),
        {k: v for k, v in influx_datasource().items() if k != "access"},
        influx_datasource(jsonData="not an object"),
        influx_datasource(secureJsonData={"token": 42}),
        influx_datasource(isDefault="yes"),
        influx_datasource(name=7),
    ],
)
def test_datasource_bodies_grafana_cannot_bind_are_400(double: GrafanaDouble, body: Any) -> None:
    reply = call(double.url, "POST", "/api/datasources", body=body)
    assert (reply.status, reply.body) == (400, {"message": "bad request data"})
    assert call(double.url, "GET", "/api/datasources").body == []


def test_datasource_access_must_be_proxy_or_direct(double: GrafanaDouble) -> None:
    reply = call(double.url, "POST", "/api/datasources", body=influx_datasource(access="server"))
    assert reply.status == 400 and "proxy" in reply.body["message"]
    for access in ("proxy", "direct"):
        body = influx_datasource(access=access, name=access, uid=access)
        assert call(double.url, "POST", "/api/datasources", body=body).status == 200


def test_datasource_body_must_be_a_json_object(double: GrafanaDouble) -> None:
    for body in (b"[1]", b"{not json", b""):
        reply = call(double.url, "POST", "/api/datasources", body=body)
        assert (reply.status, reply.body) == (400, {"message": "bad request data"})


def test_unnamed_datasources_are_named_after_their_type(api: GrafanaApi) -> None:
    body = {"type": "influxdb", "access": "proxy"}
    assert api.datasource.create_datasource(body)["name"] == "influxdb"
    assert api.datasource.create_datasource(body)["name"] == "influxdb-1"


def test_update_keeps_secrets_not_sent_again(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.datasource.create_datasource(influx_datasource())
    update = influx_datasource(url="http://influx.internal:8086", version=1)
    del update["secureJsonData"]
    updated = api.datasource.update_datasource_by_uid("influxdb", update)
    assert updated["message"] == "Datasource updated"
    assert updated["datasource"]["url"] == "http://influx.internal:8086"
    assert updated["datasource"]["version"] == 2
    assert updated["datasource"]["secureJsonFields"] == {"token": True}
    assert double.datasource_secrets("influxdb") == {"token": INFLUX_TOKEN}
    api.datasource.update_datasource_by_uid(
        "influxdb", influx_datasource(version=2, secureJsonData={"token": "rotated"})
    )
    assert double.datasource_secrets("influxdb") == {"token": "rotated"}
    api.datasource.update_datasource(1, influx_datasource(secureJsonData={"token": ""}))
    assert api.datasource.get_datasource_by_uid("influxdb")["secureJsonFields"] == {}


def test_update_with_a_stale_version_is_409(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.datasource.create_datasource(influx_datasource())
    api.datasource.update_datasource_by_uid("influxdb", influx_datasource(version=1))
    stale = call(
        double.url, "PUT", "/api/datasources/uid/influxdb", body=influx_datasource(version=1)
    )
    assert stale.status == 409 and "updated by someone else" in stale.body["message"]


def test_update_to_a_taken_name_is_409_and_unknown_is_404(
    api: GrafanaApi, double: GrafanaDouble
) -> None:
    api.datasource.create_datasource(influx_datasource())
    api.datasource.create_datasource(influx_datasource(uid="second", name="Second"))
    taken = call(double.url, "PUT", "/api/datasources/uid/second", body=influx_datasource())
    assert taken.status == 409 and "same name" in taken.body["message"]
    missing = call(double.url, "PUT", "/api/datasources/uid/nope", body=influx_datasource())
    assert missing.status == 404
    unnamed = call(
        double.url, "PUT", "/api/datasources/uid/second", body=influx_datasource(name="")
    )
    assert unnamed.status == 400


def test_one_default_datasource(api: GrafanaApi) -> None:
    api.datasource.create_datasource(influx_datasource())
    api.datasource.create_datasource(influx_datasource(uid="b", name="B", isDefault=True))
    defaults = {ds["uid"]: ds["isDefault"] for ds in api.datasource.list_datasources()}
    assert defaults == {"influxdb": False, "b": True}


def test_delete_datasource(api: GrafanaApi, double: GrafanaDouble) -> None:
    for uid in ("a", "b", "c"):
        api.datasource.create_datasource(influx_datasource(uid=uid, name=uid.upper()))
    assert api.datasource.delete_datasource_by_uid("a") == {
        "message": "Data source deleted",
        "id": 1,
    }
    assert api.datasource.delete_datasource_by_name("B")["id"] == 2
    assert api.datasource.delete_datasource_by_id(3) == {"message": "Data source deleted"}
    assert api.datasource.list_datasources() == []
    assert call(double.url, "DELETE", "/api/datasources/uid/a").status == 404
    with pytest.raises(KeyError):
        double.datasource_secrets("a")


# --- folders -------------------------------------------------------------------------------


def test_create_and_get_folder(api: GrafanaApi, double: GrafanaDouble) -> None:
    folder = api.folder.create_folder("StreamLab", uid="streamlab")
    assert folder["uid"] == "streamlab" and folder["title"] == "StreamLab"
    assert folder["url"] == "/dashboards/f/streamlab/streamlab"
    assert folder["version"] == 1 and folder["createdBy"] == "admin"
    assert api.folder.get_folder("streamlab") == folder
    assert api.folder.get_all_folders() == [
        {"id": folder["id"], "uid": "streamlab", "title": "StreamLab"}
    ]
    generated = api.folder.create_folder("Other")["uid"]
    assert len(generated) == 14 and generated.isalnum()


def test_duplicate_folder_uid_is_409(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.folder.create_folder("StreamLab", uid="streamlab")
    reply = call(double.url, "POST", "/api/folders", body={"uid": "streamlab", "title": "Again"})
    assert reply.status == 409
    assert reply.body == {"message": "a folder/dashboard with the same uid already exists"}
    with pytest.raises(GrafanaClientError) as raised:
        api.folder.create_folder("Again", uid="streamlab")
    assert raised.value.status_code == 409


def test_duplicate_folder_titles_are_allowed_since_grafana_11_3(api: GrafanaApi) -> None:
    first = api.folder.create_folder("StreamLab", uid="one")
    second = api.folder.create_folder("StreamLab", uid="two")
    assert first["uid"] != second["uid"]
    assert {f["uid"] for f in api.folder.get_all_folders()} == {"one", "two"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "  "}, "folder title cannot be empty"),
        ({"title": "X", "uid": "bad uid!"}, "uid contains illegal characters"),
        ({"title": "X", "uid": "u" * 41}, "uid too long, max 40 characters"),
        ({"title": "X", "uid": "general"}, "invalid uid for folder provided"),
        ({"title": 5}, "bad request data"),
    ],
)
def test_invalid_folders_are_400(double: GrafanaDouble, body: Any, message: str) -> None:
    reply = call(double.url, "POST", "/api/folders", body=body)
    assert (reply.status, reply.body) == (400, {"message": message})


def test_nested_folders(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.folder.create_folder("Top", uid="top")
    child = api.folder.create_folder("Child", uid="child", parent_uid="top")
    assert child["parentUid"] == "top"
    assert [f["uid"] for f in api.folder.get_all_folders()] == ["top"]
    assert [f["uid"] for f in api.folder.get_all_folders(parent_uid="top")] == ["child"]
    orphan = call(double.url, "POST", "/api/folders", body={"title": "Orphan", "parentUid": "nope"})
    assert orphan.status == 404


def test_unknown_folder_is_404(double: GrafanaDouble) -> None:
    reply = call(double.url, "GET", "/api/folders/nope")
    assert (reply.status, reply.body) == (
        404,
        {"status": "not-found", "message": "folder not found"},
    )


def test_update_folder_checks_the_version(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.folder.create_folder("StreamLab", uid="streamlab")
    updated = api.folder.update_folder("streamlab", title="StreamLab 2", version=1)
    assert (updated["title"], updated["version"]) == ("StreamLab 2", 2)
    stale = call(double.url, "PUT", "/api/folders/streamlab", body={"title": "X", "version": 1})
    assert stale.status == 412 and stale.body["status"] == "version-mismatch"
    forced = api.folder.update_folder("streamlab", title="Forced", overwrite=True)
    assert (forced["title"], forced["version"]) == ("Forced", 3)


def test_delete_folder_deletes_its_dashboards(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.folder.create_folder("StreamLab", uid="streamlab")
    api.folder.create_folder("Sub", uid="sub", parent_uid="streamlab")
    api.dashboard.update_dashboard({**dashboard_body("In sub"), "folderUid": "sub"})
    api.dashboard.update_dashboard(dashboard_body("At root"))
    assert api.folder.delete_folder("streamlab") == {"message": "Folder deleted"}
    assert api.folder.get_all_folders(parent_uid="streamlab") == []
    assert [d["dashboard"]["title"] for d in double.dashboards()] == ["At root"]
    assert call(double.url, "GET", "/api/folders/sub").status == 404


# --- dashboards ----------------------------------------------------------------------------


def test_create_dashboard_in_a_folder(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.folder.create_folder("StreamLab", uid="streamlab")
    body = {**dashboard_body("Stream Rates", uid="rates", tags=["streamlab"]), "message": "v1"}
    saved = api.dashboard.update_dashboard({**body, "folderUid": "streamlab"})
    assert saved == {
        "id": saved["id"],
        "uid": "rates",
        "url": "/d/rates/stream-rates",
        "status": "success",
        "version": 1,
        "slug": "stream-rates",
        "folderUid": "streamlab",
    }
    got = api.dashboard.get_dashboard("rates")
    model, meta = got["dashboard"], got["meta"]
    assert (model["id"], model["uid"], model["version"]) == (saved["id"], "rates", 1)
    assert model["title"] == "Stream Rates" and model["tags"] == ["streamlab"]
    assert meta["folderUid"] == "streamlab" and meta["folderTitle"] == "StreamLab"
    assert meta["slug"] == "stream-rates" and meta["url"] == "/d/rates/stream-rates"
    assert meta["version"] == 1 and meta["createdBy"] == "admin"
    stored = double.dashboards()
    assert stored == [{"dashboard": model, "folderUid": "streamlab", "message": "v1"}]
    assert double.dashboard("rates") == model


def test_new_dashboard_without_uid_gets_one(api: GrafanaApi) -> None:
    saved = api.dashboard.update_dashboard(dashboard_body(id=None, uid=None))
    assert len(saved["uid"]) == 14 and saved["version"] == 1 and saved["folderUid"] == ""
    meta = api.dashboard.get_dashboard(saved["uid"])["meta"]
    assert (meta["folderUid"], meta["folderTitle"]) == ("", "General")


def test_saving_over_a_dashboard_needs_its_version_or_overwrite(
    api: GrafanaApi, double: GrafanaDouble
) -> None:
    api.dashboard.update_dashboard(dashboard_body(uid="rates"))
    again = call(double.url, "POST", "/api/dashboards/db", body=dashboard_body(uid="rates"))
    assert again.status == 412
    assert again.body == {
        "status": "version-mismatch",
        "message": "The dashboard has been changed by someone else",
    }
    current = api.dashboard.update_dashboard(dashboard_body("Renamed", uid="rates", version=1))
    assert current["version"] == 2
    forced = {**dashboard_body("Forced", uid="rates", version=1), "overwrite": True}
    assert api.dashboard.update_dashboard(forced)["version"] == 3
    model = api.dashboard.get_dashboard("rates")["dashboard"]
    assert (model["title"], model["version"]) == ("Forced", 3)
    assert len(double.dashboards()) == 1


def test_same_title_in_a_folder_is_allowed_since_grafana_11_3(api: GrafanaApi) -> None:
    first = api.dashboard.update_dashboard(dashboard_body("Streams"))
    second = api.dashboard.update_dashboard(dashboard_body("Streams"))
    assert first["uid"] != second["uid"]
    assert len(api.search.search_dashboards(query="Streams")) == 2


def test_dashboard_ids_must_exist_and_agree_with_uids(
    api: GrafanaApi, double: GrafanaDouble
) -> None:
    a = api.dashboard.update_dashboard(dashboard_body("A", uid="a"))
    api.dashboard.update_dashboard(dashboard_body("B", uid="b"))
    unknown = call(double.url, "POST", "/api/dashboards/db", body=dashboard_body(id=999))
    assert unknown.status == 404
    assert unknown.body == {"status": "not-found", "message": "Dashboard not found"}
    mixed = call(double.url, "POST", "/api/dashboards/db", body=dashboard_body(id=a["id"], uid="b"))
    assert (mixed.status, mixed.body) == (
        400,
        {"message": "A dashboard with the same uid already exists"},
    )
    by_id = api.dashboard.update_dashboard(dashboard_body("A2", id=a["id"], version=1))
    assert (by_id["uid"], by_id["version"]) == ("a", 2)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (dashboard_body(""), 400, {"status": "empty-name"}),
        ({"dashboard": {"panels": []}}, 400, {"status": "empty-name"}),
        ({"overwrite": True}, 400, {"status": "empty-name"}),
        (dashboard_body(uid="no spaces"), 400, {"message": "uid contains illegal characters"}),
        (dashboard_body(uid="x" * 41), 400, {"message": "uid too long, max 40 characters"}),
        ({**dashboard_body(), "folderUid": "nope"}, 400, {"message": "folder not found"}),
        ({**dashboard_body(), "folderId": 99}, 400, {"message": "folder not found"}),
        ({**dashboard_body(), "message": "m" * 501}, 400, {"message": "message too long"}),
        ({**dashboard_body(), "overwrite": "yes"}, 400, {"message": "bad request data"}),
        ({"dashboard": "not an object"}, 400, {"message": "bad request data"}),
    ],
)
def test_invalid_dashboard_saves(
    double: GrafanaDouble, body: Any, status: int, expected: dict[str, str]
) -> None:
    reply = call(double.url, "POST", "/api/dashboards/db", body=body)
    assert reply.status == status
    for key, value in expected.items():
        assert reply.body[key].startswith(value), reply.body
    assert double.dashboards() == []


@pytest.mark.parametrize(
    "model",
    [
        {"panels": {"id": 1}},
        {"panels": [1, 2]},
        {"panels": [{"type": "row", "panels": "nested"}]},
        {"templating": []},
        {"templating": {"list": {"name": "bucket"}}},
    ],
)
def test_the_double_refuses_malformed_panels_and_templating(
    double: GrafanaDouble, model: dict[str, Any]
) -> None:
    reply = call(
        double.url, "POST", "/api/dashboards/db", body={"dashboard": {"title": "T", **model}}
    )
    assert reply.status == 400 and "test double" in reply.body["message"]
    assert double.dashboards() == []


def test_well_formed_panels_and_templating_are_stored(api: GrafanaApi) -> None:
    model = {
        "panels": [{"type": "row", "panels": [{"type": "timeseries"}]}, {"type": "stat"}],
        "templating": {"list": [{"name": "bucket", "type": "custom"}]},
    }
    uid = api.dashboard.update_dashboard(dashboard_body(**model))["uid"]
    stored = api.dashboard.get_dashboard(uid)["dashboard"]
    assert stored["panels"] == model["panels"] and stored["templating"] == model["templating"]


def test_deprecated_folder_id_and_moving_to_the_root(api: GrafanaApi) -> None:
    folder = api.folder.create_folder("StreamLab", uid="streamlab")
    api.dashboard.update_dashboard({**dashboard_body(uid="d"), "folderId": folder["id"]})
    assert api.dashboard.get_dashboard("d")["meta"]["folderUid"] == "streamlab"
    # Grafana moves a dashboard saved without folderUid/folderId to the root level.
    api.dashboard.update_dashboard({**dashboard_body(uid="d", version=1)})
    assert api.dashboard.get_dashboard("d")["meta"]["folderUid"] == ""


def test_get_and_delete_dashboard(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.dashboard.update_dashboard(dashboard_body("Streams", uid="streams"))
    assert api.dashboard.delete_dashboard("streams") == {
        "title": "Streams",
        "message": "Dashboard Streams deleted",
        "uid": "streams",
    }
    missing = call(double.url, "GET", "/api/dashboards/uid/streams")
    assert (missing.status, missing.body) == (404, {"message": "Dashboard not found"})
    assert call(double.url, "DELETE", "/api/dashboards/uid/streams").status == 404
    assert double.dashboards() == []
    with pytest.raises(KeyError):
        double.dashboard("streams")


def test_stored_dashboard_is_a_copy_of_the_request(api: GrafanaApi, double: GrafanaDouble) -> None:
    body = dashboard_body(uid="d", panels=[{"type": "stat"}])
    api.dashboard.update_dashboard(body)
    body["dashboard"]["panels"].append({"type": "changed"})
    assert double.dashboard("d")["panels"] == [{"type": "stat"}]


# --- search --------------------------------------------------------------------------------


@pytest.fixture
def catalog(api: GrafanaApi) -> GrafanaApi:
    api.folder.create_folder("StreamLab", uid="streamlab")
    api.folder.create_folder("Archive", uid="archive")
    for title, uid, folder, tags in (
        ("Stream Rates", "rates", "streamlab", ["streamlab", "rates"]),
        ("Spark Lag", "lag", "streamlab", ["streamlab"]),
        ("Old Rates", "old", "archive", ["rates"]),
        ("Home", "home", "", []),
    ):
        body = {**dashboard_body(title, uid=uid, tags=tags), "folderUid": folder}
        api.dashboard.update_dashboard(body)
    return api


def test_search_everything_folders_first(catalog: GrafanaApi) -> None:
    hits = catalog.search.search_dashboards()
    assert [h["uid"] for h in hits] == ["archive", "streamlab", "home", "old", "lag", "rates"]
    rates = next(h for h in hits if h["uid"] == "rates")
    assert rates == {
        "id": rates["id"],
        "uid": "rates",
        "orgId": 1,
        "title": "Stream Rates",
        "uri": "db/stream-rates",
        "url": "/d/rates/stream-rates",
        "slug": "",
        "type": "dash-db",
        "tags": ["streamlab", "rates"],
        "isStarred": False,
        "sortMeta": 0,
        "isDeleted": False,
        "folderId": hits[1]["id"],
        "folderUid": "streamlab",
        "folderTitle": "StreamLab",
        "folderUrl": "/dashboards/f/streamlab/streamlab",
    }
    assert "folderUid" not in next(h for h in hits if h["uid"] == "home")


def test_search_filters(catalog: GrafanaApi, double: GrafanaDouble) -> None:
    search = catalog.search.search_dashboards

    def uids(**kwargs: Any) -> list[str]:
        return [h["uid"] for h in search(**kwargs)]

    assert uids(query="rates") == ["old", "rates"]
    assert uids(type_="dash-folder") == ["archive", "streamlab"]
    assert uids(type_="dash-db", folder_uids=["streamlab"]) == ["lag", "rates"]
    assert uids(folder_uids=["general"]) == ["archive", "streamlab", "home"]
    assert uids(tag=["streamlab", "rates"]) == ["rates"]
    assert uids(tag="rates") == ["old", "rates"]
    assert uids(dashboard_uids=["home", "lag"]) == ["home", "lag"]
    assert uids(query="stream", type_="dash-db") == ["rates"]
    assert uids(starred=True) == []
    # grafana-client cannot ask for a sort order.
    descending = call(double.url, "GET", "/api/search?type=dash-db&sort=alpha-desc").body
    assert [h["uid"] for h in descending] == ["rates", "lag", "old", "home"]


def test_search_pages(catalog: GrafanaApi, double: GrafanaDouble) -> None:
    search = catalog.search.search_dashboards
    assert [h["uid"] for h in search(type_="dash-db", limit=2, page=2)] == ["lag", "rates"]
    too_many = call(double.url, "GET", "/api/search?limit=5001")
    assert too_many.status == 422 and "5000" in too_many.body["message"]


# --- routes, inspection, reset -------------------------------------------------------------


def test_unknown_paths_are_404_json_before_authentication(double: GrafanaDouble) -> None:
    for path in ("/api/org", "/api/dashboards/db/streams", "/"):
        reply = call(double.url, "GET", path, auth=None)
        assert reply.status == 404 and reply.body["message"] == "Not found", path
        assert "test double" in reply.body["double"]


def test_wrong_method_is_405(double: GrafanaDouble) -> None:
    reply = call(double.url, "PUT", "/api/search")
    assert (reply.status, reply.body) == (405, {"message": "Method Not Allowed"})
    assert reply.headers["Allow"] == "GET"
    assert call(double.url, "POST", "/api/datasources/uid/x").headers["Allow"] == (
        "DELETE, GET, PUT"
    )


def test_bad_input_raises_in_grafana_client(api: GrafanaApi) -> None:
    with pytest.raises(GrafanaBadInputError):
        api.dashboard.update_dashboard({"dashboard": {"title": ""}})


def test_stats_and_reset(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.datasource.create_datasource(influx_datasource())
    api.folder.create_folder("StreamLab")
    api.dashboard.update_dashboard(dashboard_body())
    stats = call(double.url, "GET", "/_double/stats", auth=None).body["requests"]
    assert stats["POST /api/datasources"] == 1 and stats["POST /api/dashboards/db"] == 1
    assert call(double.url, "POST", "/_double/reset", auth=None).body == {"reset": "all"}
    assert api.datasource.list_datasources() == [] and api.folder.get_all_folders() == []
    assert call(double.url, "GET", "/_double/dashboards", auth=None).body == []
    # Ids start over, as in a fresh Grafana.
    assert api.datasource.create_datasource(influx_datasource())["id"] == 1


def test_concurrent_saves_keep_versions_consistent(api: GrafanaApi, double: GrafanaDouble) -> None:
    api.dashboard.update_dashboard(dashboard_body(uid="busy"))
    forced = {**dashboard_body(uid="busy"), "overwrite": True}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        versions = list(
            pool.map(lambda _: api.dashboard.update_dashboard(forced)["version"], range(16))
        )
    assert sorted(versions) == list(range(2, 18))
    assert double.dashboard("busy")["version"] == 17


# --- configuration and the CLI -------------------------------------------------------------


def test_config_from_env_reads_the_file_variant(tmp_path: Path) -> None:
    secret = tmp_path / "grafana_admin_password"
    secret.write_text("from-a-file\n\n")
    config = config_from_env(
        {**TAG, "GF_SECURITY_ADMIN_USER": "root", "GF_SECURITY_ADMIN_PASSWORD__FILE": str(secret)}
    )
    assert (config.admin_user, config.admin_password) == ("root", "from-a-file")
    assert config_from_env(TAG) == DoubleConfig(version="12.2.1")
    plain = config_from_env({**TAG, "GF_SECURITY_ADMIN_PASSWORD": "plain"})
    assert plain.admin_password == "plain"


def test_the_version_comes_from_settings_env_and_is_required_in_the_environment() -> None:
    assert DoubleConfig().version == Settings.load().str("GRAFANA_IMAGE_TAG")
    with pytest.raises(ConfigError, match="GRAFANA_IMAGE_TAG is not set"):
        config_from_env({})


def test_config_from_env_refuses_both_variants_and_missing_files(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x")
    both = {"GF_SECURITY_ADMIN_PASSWORD": "a", "GF_SECURITY_ADMIN_PASSWORD__FILE": str(secret)}
    with pytest.raises(ConfigError, match="exclusive"):
        config_from_env({**TAG, **both})
    missing = {**TAG, "GF_SECURITY_ADMIN_PASSWORD__FILE": str(tmp_path / "missing")}
    with pytest.raises(ConfigError, match="GF_SECURITY_ADMIN_PASSWORD__FILE"):
        config_from_env(missing)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if call(url, "GET", "/api/health", auth=None).status == 200:
                return
        except urllib.error.URLError:
            time.sleep(0.05)
    raise AssertionError("the Grafana double did not become healthy")


def test_cli_reads_the_admin_password_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "grafana_admin_password"
    secret.write_text(PASSWORD + "\n")
    port = _free_port()
    environ = {
        **os.environ,
        "PYTHONPATH": str(TESTS_DIR),
        "GF_SECURITY_ADMIN_PASSWORD__FILE": str(secret),
        "GRAFANA_IMAGE_TAG": "12.2.1",
    }
    environ.pop("GF_SECURITY_ADMIN_PASSWORD", None)
    command = [sys.executable, "-m", "doubles.grafana", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=environ, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process)
        assert call(url, "GET", "/api/folders", auth=ADMIN).status == 200
        assert call(url, "GET", "/api/folders", auth=("admin", "admin")).status == 401
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert b"Grafana 12.2.1 TEST DOUBLE" in stderr


def test_cli_exits_2_on_bad_configuration(tmp_path: Path) -> None:
    environ = {
        **os.environ,
        **TAG,
        "PYTHONPATH": str(TESTS_DIR),
        "GF_SECURITY_ADMIN_PASSWORD__FILE": str(tmp_path / "missing"),
    }
    command = [sys.executable, "-m", "doubles.grafana", "--port", "0"]
    result = subprocess.run(command, env=environ, capture_output=True, timeout=30)
    assert result.returncode == 2 and b"GF_SECURITY_ADMIN_PASSWORD__FILE" in result.stderr
