"""The dashboard API (/api/dashboards), as pkg/api/dashboard.go serves it.

POST /api/dashboards/db creates or updates by dashboard.id / dashboard.uid
(getExistingDashboardByIDOrUIDForUpdate): a new dashboard gets an id, a uid if it has none,
and version 1. Saving over an existing one needs its current version in dashboard.version,
or overwrite=true; otherwise 412 {"status": "version-mismatch"}. Each save bumps the version.
Titles need not be unique, not even within a folder, since Grafana 11.3: the
"name-exists" 412 of older versions is gone (grafana/grafana#90687).
Without folderUid (or folderId) a dashboard is saved, or moved, to the root level.

The double also checks the shape of what it stores: panels must be a list of objects (rows
included) and templating an object whose "list" is a list. Grafana stores such JSON as is
and the dashboard then fails in the browser; the double answers 400 instead.
"""

from __future__ import annotations

from typing import Any

from . import errors, fields
from .errors import with_status
from .ids import slugify, uid_problem
from .model import Folder
from .render import dashboard_meta, dashboard_url
from .routing import Request, Response, Router, ok
from .store import SaveDashboard, Store

MAX_TITLE_LENGTH = 5000
MAX_MESSAGE_LENGTH = 500
DOUBLE_CHECK = "(checked by the StreamLab Grafana test double)"


class DashboardsApi:
    def __init__(self, store: Store) -> None:
        self._store = store

    def register(self, router: Router) -> None:
        router.add("POST", "/api/dashboards/db", self.save)
        router.add("GET", "/api/dashboards/uid/{uid}", self.get)
        router.add("DELETE", "/api/dashboards/uid/{uid}", self.delete)

    def save(self, request: Request) -> Response:
        dash = self._store.save_dashboard(self._command(request))
        return ok(
            {
                "id": dash.id,
                "uid": dash.uid,
                "url": dashboard_url(dash),
                "status": "success",
                "version": dash.version,
                "slug": slugify(dash.title),
                "folderUid": dash.folder_uid,
            }
        )

    def get(self, request: Request) -> Response:
        dash = self._store.dashboard(request.params["uid"])
        folder = self._store.find_folder(dash.folder_uid)
        return ok({"dashboard": dash.data, "meta": dashboard_meta(dash, folder)})

    def delete(self, request: Request) -> Response:
        dash = self._store.delete_dashboard(request.params["uid"])
        message = f"Dashboard {dash.title} deleted"
        return ok({"title": dash.title, "message": message, "uid": dash.uid})

    def _command(self, request: Request) -> SaveDashboard:
        """The save command, validated in the order BuildSaveDashboardCommand validates."""
        body = request.json_object()
        data = fields.obj(body, "dashboard") or {}
        if fields.boolean(body, "isFolder"):
            raise errors.bad_request("Use folders endpoint for saving folders.")
        title = _title(data)
        folder_uid = self._folder_uid(body)
        uid = data["uid"] if isinstance(data.get("uid"), str) else ""
        if problem := uid_problem(uid):
            raise errors.bad_request(problem)
        message = fields.string(body, "message")
        if len(message) > MAX_MESSAGE_LENGTH:
            raise errors.bad_request("message too long, max 500 characters")
        if problem := shape_problem(data):
            raise errors.bad_request(f"{problem} {DOUBLE_CHECK}")
        return SaveDashboard(
            data=data,
            id=fields.number(data.get("id")) or 0,
            uid=uid,
            title=title,
            version=_version(data),
            folder_uid=folder_uid,
            overwrite=fields.boolean(body, "overwrite"),
            message=message,
            login=request.login,
        )

    def _folder_uid(self, body: dict[str, Any]) -> str:
        """The folder to save in: folderUid, else the deprecated folderId, else the root."""
        folder_uid, folder_id = fields.string(body, "folderUid"), fields.integer(body, "folderId")
        folder: Folder | None = None
        if folder_uid:
            folder = self._store.find_folder(folder_uid)
        elif folder_id > 0:
            folder = self._store.folder_by_id(folder_id)
        else:
            return ""
        if folder is None:
            raise errors.bad_request("folder not found")
        return folder.uid


def _title(data: dict[str, Any]) -> str:
    title = data.get("title")
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        raise with_status(400, "empty-name", "Dashboard title cannot be empty")
    if len(title) > MAX_TITLE_LENGTH:
        raise with_status(
            400, "title-too-long", "Dashboard title cannot contain more than 5 000 characters"
        )
    return title


def _version(data: dict[str, Any]) -> int:
    """dashboard.version counts only next to a numeric id or a string uid (NewDashboardFromJson)."""
    identified = fields.number(data.get("id")) is not None or isinstance(data.get("uid"), str)
    return (fields.number(data.get("version")) or 0) if identified else 0


def shape_problem(data: dict[str, Any]) -> str | None:
    """What is wrong with the panels or templating of a dashboard model, if anything."""
    if problem := _panels_problem(data.get("panels"), "dashboard.panels"):
        return problem
    templating = data.get("templating")
    if templating is None:
        return None
    if not isinstance(templating, dict) or not isinstance(templating.get("list", []), list):
        return 'dashboard.templating must be an object whose "list" is a list'
    return None


def _panels_problem(panels: Any, where: str) -> str | None:
    if panels is None:
        return None
    if not isinstance(panels, list) or not all(isinstance(p, dict) for p in panels):
        return f"{where} must be a list of panel objects"
    for index, panel in enumerate(panels):
        if problem := _panels_problem(panel.get("panels"), f"{where}[{index}].panels"):
            return problem
    return None
