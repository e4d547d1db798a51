"""Step 3: InfluxDB's org (made by the container's init), buckets and least-privilege tokens."""

from __future__ import annotations

import requests
import urllib3
from influxdb_client import InfluxDBClient, Organization
from influxdb_client.rest import ApiException

from .config import InfluxConfig
from .influx_buckets import api_message, ensure_buckets
from .influx_tokens import ensure_tokens
from .report import PRESENT, ProvisionError, Report
from .secret_files import SecretFileError, read_secret
from .waiting import NotReady, http_reason, wait_for

SERVICE = "influxdb"
ADMIN_TOKEN_FIX = (
    "INFLUX_ADMIN_TOKEN_FILE must hold the token the influxdb container was set up with "
    "(DOCKER_INFLUXDB_INIT_ADMIN_TOKEN; ./build_setup.sh generates it into .secrets/)"
)


def provision_influx(config: InfluxConfig, report: Report, wait_s: float) -> None:
    admin_token = _admin_token(config)
    wait_for(
        SERVICE,
        f"InfluxDB at {config.url}",
        lambda: _probe(config),
        timeout_s=wait_s,
        fix="start InfluxDB (docker compose up -d influxdb) or set INFLUX_URL",
        report=report,
    )
    with InfluxDBClient(
        url=config.url, token=admin_token, org=config.org, timeout=config.timeout_ms
    ) as client:
        try:
            org = find_org(client, config)
            report.item(SERVICE, f"org {config.org}", PRESENT)
            buckets = ensure_buckets(client.buckets_api(), org, config, report)
            ensure_tokens(client.authorizations_api(), org, buckets.values(), config, report)
        except urllib3.exceptions.HTTPError as error:  # InfluxDB went away mid-step
            raise ProvisionError(
                SERVICE, config.url, f"request failed: {type(error).__name__}",
                "check that InfluxDB is up (docker compose logs influxdb) and re-run",
            ) from None  # fmt: skip


def find_org(client: InfluxDBClient, config: InfluxConfig) -> Organization:
    item = f"org {config.org}"
    try:
        found = client.organizations_api().find_organizations(org=config.org) or []
    except ApiException as error:
        if error.status == 401:
            raise ProvisionError(SERVICE, "admin token", "refused (401)", ADMIN_TOKEN_FIX) from None
        if error.status != 404:
            raise ProvisionError(
                SERVICE, item, f"cannot look it up: {error.status} {api_message(error)}",
                ADMIN_TOKEN_FIX,
            ) from None  # fmt: skip
        found = []
    org = next((o for o in found if o.name == config.org), None)
    if org is None:
        raise ProvisionError(
            SERVICE, item, "does not exist",
            "INFLUX_ORG must be the org the influxdb container was set up with "
            "(DOCKER_INFLUXDB_INIT_ORG)",
        )  # fmt: skip
    return org


def _admin_token(config: InfluxConfig) -> str:
    try:
        return read_secret(config.admin_token_file)
    except SecretFileError as error:
        raise ProvisionError(SERVICE, "admin token", str(error), ADMIN_TOKEN_FIX) from None


def _probe(config: InfluxConfig) -> None:
    try:
        response = requests.get(f"{config.url.rstrip('/')}/health", timeout=5)
        body = response.json()
    except requests.RequestException as error:
        raise NotReady(http_reason(error)) from None
    except ValueError:
        raise NotReady("the health answer is not JSON") from None
    if response.status_code != 200 or body.get("status") != "pass":
        raise NotReady(f"health {response.status_code}: {body.get('message', '')}")
