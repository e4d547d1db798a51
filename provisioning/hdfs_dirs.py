"""Step 2: HDFS directories through WebHDFS, acting as the HDFS superuser.

The raw layer and checkpoint folders (the paths of RAW_LAYER_URI and CHECKPOINT_URI) and the
Spark user's home (where YARN stages the job) belong to the Spark user; /tmp is 1777.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from .config import HdfsConfig
from .report import CREATED, PRESENT, UPDATED, ProvisionError, Report
from .waiting import NotReady, http_reason, wait_for

SERVICE = "hdfs"
WEBHDFS_PREFIX = "/webhdfs/v1"
NAMENODE_INFO = "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"
SPARK_DIR_MODE = "755"
TMP_MODE = "1777"


@dataclass(frozen=True)
class WantedDir:
    path: str
    owner: str
    permission: str  # octal, as WebHDFS prints it: "755", "1777"


def wanted_dirs(config: HdfsConfig) -> list[WantedDir]:
    spark = [*config.spark_dirs, config.home]
    dirs = [WantedDir(path, config.spark_user, SPARK_DIR_MODE) for path in spark]
    return [*dirs, WantedDir("/tmp", config.superuser, TMP_MODE)]


def provision_dirs(config: HdfsConfig, report: Report, wait_s: float) -> None:
    if not config.webhdfs_url:
        report.note(SERVICE, "skipped (no WEBHDFS_URL: lite profile)")
        return
    client = WebHdfs(config)
    wait_for(
        SERVICE,
        f"the NameNode at {client.base}",
        client.probe,
        timeout_s=wait_s,
        fix="start HDFS (docker compose up -d namenode datanode) or set WEBHDFS_URL",
        report=report,
    )
    for wanted in wanted_dirs(config):
        _ensure_dir(client, wanted, report)


def _ensure_dir(client: WebHdfs, wanted: WantedDir, report: Report) -> None:
    status = client.status(wanted.path)
    created = status is None
    if created:
        client.call("PUT", wanted.path, "MKDIRS", permission=wanted.permission)
        status = client.status(wanted.path) or {}
    if status.get("type") != "DIRECTORY":
        raise ProvisionError(
            SERVICE, wanted.path, f"is a {status.get('type', 'missing').lower()}, not a folder",
            f"remove it (hdfs dfs -rm {wanted.path}) and re-run the provisioner",
        )  # fmt: skip
    changes = _reconcile(client, wanted, status)
    detail = f"owner {wanted.owner}, mode {wanted.permission}"
    if created:
        report.item(SERVICE, wanted.path, CREATED, detail)
    elif changes:
        report.item(SERVICE, wanted.path, UPDATED, "; ".join(changes))
    else:
        report.item(SERVICE, wanted.path, PRESENT, detail)


def _reconcile(client: WebHdfs, wanted: WantedDir, status: dict[str, Any]) -> list[str]:
    changes = []
    if status.get("owner") != wanted.owner:
        client.call("PUT", wanted.path, "SETOWNER", owner=wanted.owner)
        changes.append(f"owner {status.get('owner')} -> {wanted.owner}")
    if status.get("permission") != wanted.permission:
        client.call("PUT", wanted.path, "SETPERMISSION", permission=wanted.permission)
        changes.append(f"mode {status.get('permission')} -> {wanted.permission}")
    return changes


class WebHdfs:
    """The few WebHDFS operations the step needs, as `user.name=<HDFS superuser>`."""

    def __init__(self, config: HdfsConfig) -> None:
        base = config.webhdfs_url.rstrip("/")
        self.base = base.removesuffix(WEBHDFS_PREFIX)
        self.user = config.superuser
        self.timeout_s = config.timeout_s
        self.session = requests.Session()
        self.session.trust_env = False  # never send loopback or in-stack calls to a proxy

    def probe(self) -> None:
        """Answers, and out of safe mode (writes would fail with SafeModeException)."""
        try:
            info = self.session.get(self.base + NAMENODE_INFO, timeout=self.timeout_s)
            info.raise_for_status()
            beans = info.json().get("beans") or [{}]
        except requests.RequestException as error:
            raise NotReady(http_reason(error)) from None
        except ValueError:
            raise NotReady("the NameNode's JMX answer is not JSON") from None
        if beans[0].get("Safemode"):
            raise NotReady("the NameNode is in safe mode")

    def status(self, path: str) -> dict[str, Any] | None:
        """GETFILESTATUS's FileStatus, or None if nothing is at path."""
        response = self._request("GET", path, "GETFILESTATUS")
        if response.status_code == 404:
            return None
        return self._checked(response, path, "GETFILESTATUS").json()["FileStatus"]

    def call(self, method: str, path: str, op: str, **params: str) -> None:
        self._checked(self._request(method, path, op, **params), path, op)

    def _request(self, method: str, path: str, op: str, **params: str) -> requests.Response:
        query = {"op": op, "user.name": self.user, **params}
        url = f"{self.base}{WEBHDFS_PREFIX}{path}"
        try:
            return self.session.request(method, url, params=query, timeout=self.timeout_s)
        except requests.RequestException as error:
            raise ProvisionError(
                SERVICE, path, f"{op} failed: {http_reason(error)}", "check that the NameNode is up"
            ) from None

    def _checked(self, response: requests.Response, path: str, op: str) -> requests.Response:
        if response.ok:
            return response
        exception, message = _remote_exception(response)
        raise ProvisionError(
            SERVICE, path, f"{op} refused: {exception}: {message}", _fix(exception)
        )


def _remote_exception(response: requests.Response) -> tuple[str, str]:
    try:
        remote = response.json()["RemoteException"]
        return remote.get("exception", "error"), remote.get("message", "")
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}", response.text[:200]


def _fix(exception: str) -> str:
    if exception in ("AccessControlException", "SecurityException"):
        return (
            "set HDFS_SUPERUSER to the user that runs the NameNode (dfs.permissions.superusergroup)"
        )
    if exception in ("SafeModeException", "RetriableException"):
        return "wait until the NameNode leaves safe mode (hdfs dfsadmin -safemode get), then re-run"
    return "check the NameNode's log (docker compose logs namenode)"
