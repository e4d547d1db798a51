"""Step 4: Grafana's InfluxDB datasource (read token), the StreamLab folder, every dashboard.

Each item is compared with what Grafana stores and only written when it differs, so a
second run changes nothing (dashboard versions stay put).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import niquests
import requests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

from streamlab.specs import DatasetSpec

from .config import GrafanaConfig
from .dashboards import (
    BUCKET_VAR,
    DATASOURCE_UID,
    PIPELINE_BUCKET_VAR,
    DashboardError,
    all_dashboards,
)
from .report import CREATED, PRESENT, UPDATED, ProvisionError, Report
from .secret_files import SecretFileError, read_secret
from .waiting import NotReady, http_reason, wait_for

SERVICE = "grafana"
DATASOURCE_NAME = "StreamLab InfluxDB"
FOLDER_UID, FOLDER_TITLE = "streamlab", "StreamLab"
# Grafana never returns secureJsonData: a short hash of the token, kept in jsonData, tells
# whether the stored token is the one in the token file.
TOKEN_HASH_KEY = "streamlabTokenSha256"
IGNORED_DASHBOARD_KEYS = ("id", "version")
IMPORT_MESSAGE = "StreamLab provisioner"


def provision_grafana(
    config: GrafanaConfig, specs: Mapping[str, DatasetSpec], report: Report, wait_s: float
) -> None:
    password = _secret(config.admin_password_file, "admin password", _password_fix(config))
    token = _secret(config.read_token_file, "InfluxDB read token", "run the influxdb step first")
    dashboards = _dashboards(config, specs)
    wait_for(
        SERVICE,
        f"Grafana at {config.url}",
        lambda: _probe(config),
        timeout_s=wait_s,
        fix="start Grafana (docker compose up -d grafana) or set GRAFANA_URL",
        report=report,
    )
    api = GrafanaApi.from_url(
        config.url, credential=(config.admin_user, password), timeout=config.timeout_s
    )
    wanted = datasource_model(config, token)
    actions: list[tuple[str, Callable[[], None]]] = [
        (f"datasource {DATASOURCE_UID}", partial(ensure_datasource, api, wanted, report)),
        (f"folder {FOLDER_UID}", partial(ensure_folder, api, report)),
        *((f"dashboard {m['uid']}", partial(ensure_dashboard, api, m, report)) for m in dashboards),
    ]
    for item, action in actions:
        with _api_errors(item, config):
            action()


@contextmanager
def _api_errors(item: str, config: GrafanaConfig) -> Iterator[None]:
    """Grafana's answers as ProvisionErrors that name the item."""
    try:
        yield
    except GrafanaUnauthorizedError:
        raise ProvisionError(
            SERVICE, f"admin login {config.admin_user!r}", "refused (401)", _password_fix(config)
        ) from None
    except GrafanaException as error:
        raise ProvisionError(
            SERVICE, item, f"Grafana answered: {error.message}",
            "check Grafana's log (docker compose logs grafana)",
        ) from None  # fmt: skip
    except niquests.exceptions.RequestException as error:
        raise ProvisionError(
            SERVICE, item, f"request failed: {type(error).__name__}", "check that Grafana is up"
        ) from None


def datasource_model(config: GrafanaConfig, token: str) -> dict[str, Any]:
    return {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": "influxdb",
        "access": "proxy",
        "url": config.influx_url,
        "isDefault": True,
        "basicAuth": False,
        "jsonData": {
            "version": "Flux",
            "organization": config.influx_org,
            "defaultBucket": config.influx_bucket,
            TOKEN_HASH_KEY: token_hash(token),
        },
        "secureJsonData": {"token": token},
    }


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def ensure_datasource(api: GrafanaApi, wanted: dict[str, Any], report: Report) -> None:
    item = f"datasource {wanted['uid']}"
    stored = _get(lambda: api.datasource.get_datasource_by_uid(wanted["uid"]))
    if stored is None:
        api.datasource.create_datasource(wanted)
        report.item(SERVICE, item, CREATED, f"InfluxDB at {wanted['url']}, read token")
        return
    changed = datasource_changes(stored, wanted)
    if not changed:
        report.item(SERVICE, item, PRESENT, f"InfluxDB at {wanted['url']}, read token")
        return
    api.datasource.update_datasource_by_uid(wanted["uid"], wanted)
    report.item(SERVICE, item, UPDATED, f"changed: {', '.join(changed)}")


def datasource_changes(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Names of the settings where Grafana's copy differs (the token by its hash)."""
    changed = [
        key
        for key in wanted
        if key not in ("jsonData", "secureJsonData") and stored.get(key) != wanted[key]
    ]
    json_data = stored.get("jsonData") or {}
    changed += [f"jsonData.{k}" for k, v in wanted["jsonData"].items() if json_data.get(k) != v]
    if not (stored.get("secureJsonFields") or {}).get("token"):
        changed.append("token")
    return changed


def ensure_folder(api: GrafanaApi, report: Report) -> None:
    item = f"folder {FOLDER_UID}"
    stored = _get(lambda: api.folder.get_folder(FOLDER_UID))
    if stored is None:
        api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        report.item(SERVICE, item, CREATED, FOLDER_TITLE)
    elif stored.get("title") != FOLDER_TITLE:
        api.folder.update_folder(FOLDER_UID, title=FOLDER_TITLE, overwrite=True)
        report.item(SERVICE, item, UPDATED, f"title {stored.get('title')!r} -> {FOLDER_TITLE!r}")
    else:
        report.item(SERVICE, item, PRESENT, FOLDER_TITLE)


def ensure_dashboard(api: GrafanaApi, model: dict[str, Any], report: Report) -> None:
    uid = model["uid"]
    item = f"dashboard {uid}"
    stored = _get(lambda: api.dashboard.get_dashboard(uid))
    if stored is not None and dashboard_matches(stored, model):
        version = stored["dashboard"].get("version")
        report.item(SERVICE, item, PRESENT, f"{model['title']!r}, version {version}")
        return
    body = {
        "dashboard": {**model, "id": None},
        "folderUid": FOLDER_UID,
        "overwrite": True,
        "message": IMPORT_MESSAGE,
    }
    saved = api.dashboard.update_dashboard(body)
    outcome = CREATED if stored is None else UPDATED
    report.item(SERVICE, item, outcome, f"{model['title']!r}, version {saved.get('version')}")


def dashboard_matches(stored: Mapping[str, Any], model: Mapping[str, Any]) -> bool:
    """Same JSON model (ignoring id and version) in the StreamLab folder."""
    folder = (stored.get("meta") or {}).get("folderUid")
    return folder == FOLDER_UID and _comparable(stored.get("dashboard") or {}) == _comparable(model)


def _comparable(model: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k not in IGNORED_DASHBOARD_KEYS}


def _dashboards(config: GrafanaConfig, specs: Mapping[str, DatasetSpec]) -> Sequence[dict]:
    defaults = {
        BUCKET_VAR: config.influx_bucket,
        PIPELINE_BUCKET_VAR: config.influx_pipeline_bucket,
    }
    try:
        return all_dashboards(specs, config.dashboards_dir, defaults)
    except DashboardError as error:
        raise ProvisionError(
            SERVICE,
            "dashboards",
            str(error),
            "fix the dashboard file, or set DASHBOARDS_DIR to the dashboards/ folder",
        ) from None


def _get(fetch: Callable[[], Any]) -> Any:
    """The resource, or None if Grafana answers 404."""
    try:
        return fetch()
    except GrafanaClientError as error:
        if error.status_code == 404:
            return None
        raise


def _probe(config: GrafanaConfig) -> None:
    try:
        response = requests.get(f"{config.url.rstrip('/')}/api/health", timeout=5)
        body = response.json()
    except requests.RequestException as error:
        raise NotReady(http_reason(error)) from None
    except ValueError:
        raise NotReady("the health answer is not JSON") from None
    if response.status_code != 200 or body.get("database") != "ok":
        raise NotReady(f"health {response.status_code}: database {body.get('database')}")


def _secret(path: Path, what: str, fix: str) -> str:
    try:
        return read_secret(path)
    except SecretFileError as error:
        raise ProvisionError(SERVICE, what, str(error), fix) from None


def _password_fix(config: GrafanaConfig) -> str:
    return (
        f"GRAFANA_ADMIN_PASSWORD_FILE ({config.admin_password_file}) must hold the password of "
        f"{config.admin_user!r} Grafana was started with (GF_SECURITY_ADMIN_PASSWORD; "
        "./build_setup.sh generates it into .secrets/)"
    )
