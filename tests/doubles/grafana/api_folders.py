"""The folder API (/api/folders), as Grafana 12 serves it with nested folders on.

A folder uid must be unique (409); titles need not be, not even side by side, since
Grafana 11.3 (grafana/grafana#90687). GET /api/folders lists the children of ?parentUid=,
the top level without it. Deleting a folder deletes its subfolders and their dashboards.
"""

from __future__ import annotations

from . import errors, fields
from .ids import uid_problem
from .render import folder_json, folder_list_item
from .routing import Request, Response, Router, ok
from .store import Store

GENERAL_FOLDER_UID = "general"
DEFAULT_LIMIT = 1000


class FoldersApi:
    def __init__(self, store: Store) -> None:
        self._store = store

    def register(self, router: Router) -> None:
        router.add("GET", "/api/folders", self.list)
        router.add("POST", "/api/folders", self.create)
        router.add("GET", "/api/folders/{uid}", self.get)
        router.add("PUT", "/api/folders/{uid}", self.update)
        router.add("DELETE", "/api/folders/{uid}", self.delete)

    def list(self, request: Request) -> Response:
        parent = request.arg("parentUid")
        children = [f for f in self._store.folders() if f.parent_uid == parent]
        limit = _positive(request.arg("limit")) or DEFAULT_LIMIT
        page = _positive(request.arg("page")) or 1
        shown = children[(page - 1) * limit : page * limit]
        return ok([folder_list_item(folder) for folder in shown])

    def get(self, request: Request) -> Response:
        return ok(folder_json(self._store.folder(request.params["uid"])))

    def create(self, request: Request) -> Response:
        body = request.json_object()
        uid, title = fields.string(body, "uid"), fields.string(body, "title").strip()
        parent = fields.string(body, "parentUid")
        if not title:
            raise errors.bad_request("folder title cannot be empty")
        if uid == GENERAL_FOLDER_UID:
            raise errors.bad_request("invalid uid for folder provided")
        if problem := uid_problem(uid):
            raise errors.bad_request(problem)
        return ok(folder_json(self._store.add_folder(uid, title, parent, request.login)))

    def update(self, request: Request) -> Response:
        body = request.json_object()
        uid = request.params["uid"]
        if fields.string(body, "uid", uid) != uid:
            raise errors.ApiError(
                501, "the StreamLab Grafana test double does not implement changing a folder uid"
            )
        title = fields.string(body, "title").strip() or None
        version, overwrite = fields.integer(body, "version"), fields.boolean(body, "overwrite")
        folder = self._store.update_folder(uid, title, version, overwrite, request.login)
        return ok(folder_json(folder))

    def delete(self, request: Request) -> Response:
        self._store.delete_folder(request.params["uid"])
        return ok({"message": "Folder deleted"})


def _positive(text: str) -> int:
    return int(text) if text.isdigit() and int(text) > 0 else 0
