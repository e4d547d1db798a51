"""GET /api/search: folders and dashboards, as the legacy search API finds them.

Filters combine with AND: query (case-insensitive substring of the title), tag (repeatable;
every tag must be present), type (dash-db or dash-folder), dashboardUIDs / dashboardIds,
folderUIDs / folderIds (repeatable; "general" or 0 is the root level), starred (nothing is
starred in the double). Without sort, folders come first, then by title; sort=alpha-asc and
alpha-desc order by title only. limit (default 1000, at most 5000) and page select a page.
"""

from __future__ import annotations

from collections.abc import Callable

from . import errors
from .model import Dashboard, Folder
from .render import search_hit
from .routing import Request, Response, Router, ok
from .store import Store

Item = Dashboard | Folder
Filter = Callable[[Item], bool]

DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000
GENERAL_FOLDER_UID = "general"


class SearchApi:
    def __init__(self, store: Store) -> None:
        self._store = store

    def register(self, router: Router) -> None:
        router.add("GET", "/api/search", self.search)

    def search(self, request: Request) -> Response:
        limit, page = _limit(request), max(_int(request.arg("page")) or 1, 1)
        if request.arg("starred") == "true":
            return ok([])
        folders = {f.uid: f for f in self._store.folders()}
        items: list[Item] = [*folders.values(), *self._store.dashboards()]
        filters = self._filters(request, folders)
        found = _sorted([i for i in items if all(keep(i) for keep in filters)], request.arg("sort"))
        shown = found[(page - 1) * limit : page * limit]
        return ok([search_hit(i, folders.get(_parent(i))) for i in shown])

    def _filters(self, request: Request, folders: dict[str, Folder]) -> list[Filter]:
        filters: list[Filter] = []
        if query := request.arg("query").lower():
            filters.append(lambda i: query in i.title.lower())
        if tags := request.args("tag"):
            filters.append(lambda i: isinstance(i, Dashboard) and set(tags) <= set(i.tags))
        kind = request.arg("type")
        if kind in ("dash-db", "dash-folder"):
            filters.append(lambda i: isinstance(i, Folder) == (kind == "dash-folder"))
        if uids := set(request.args("dashboardUIDs")):
            filters.append(lambda i: i.uid in uids)
        if ids := _ints(request.args("dashboardIds")):
            filters.append(lambda i: i.id in ids)
        if parents := _folder_uids(request, folders):
            filters.append(lambda i: _parent(i) in parents)
        return filters


def _folder_uids(request: Request, folders: dict[str, Folder]) -> set[str]:
    """The parent folders asked for by uid or id; "" stands for the root level."""
    uids = {"" if uid == GENERAL_FOLDER_UID else uid for uid in request.args("folderUIDs")}
    by_id = {f.id: f.uid for f in folders.values()} | {0: ""}
    for folder_id in _ints(request.args("folderIds")):
        uids.add(by_id.get(folder_id, f"<no folder with id {folder_id}>"))
    return uids


def _parent(item: Item) -> str:
    return item.parent_uid if isinstance(item, Folder) else item.folder_uid


def _sorted(items: list[Item], sort: str) -> list[Item]:
    if sort in ("alpha-asc", "alpha-desc"):
        return sorted(items, key=lambda i: i.title.lower(), reverse=sort == "alpha-desc")
    return sorted(items, key=lambda i: (isinstance(i, Dashboard), i.title.lower()))


def _limit(request: Request) -> int:
    limit = _int(request.arg("limit")) or 0
    if limit < 1:
        return DEFAULT_LIMIT
    if limit > MAX_LIMIT:
        raise errors.ApiError(
            422,
            "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit",
        )
    return limit


def _int(text: str) -> int | None:
    """An integer parameter; Grafana ignores values that do not parse."""
    try:
        return int(text)
    except ValueError:
        return None


def _ints(texts: list[str]) -> set[int]:
    return {n for text in texts if (n := _int(text)) is not None}
