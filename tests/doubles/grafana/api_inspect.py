"""The double's own inspection API under /_double/: not part of Grafana, tests only.

GET  /_double/dashboards -> [{"dashboard": <stored JSON model>, "folderUid", "message"}, ...]
     sorted by title, then uid
GET  /_double/datasources/{uid}/secure -> the data source's secureJsonData, as stored
GET  /_double/stats -> {"requests": {"<METHOD> <route>": count, ...}}
POST /_double/reset -> back to the startup state: no data sources, folders or dashboards
No credentials are needed: the double is only ever bound for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .model import Dashboard
from .routing import Request, Response, Router, ok
from .stats import Stats
from .store import Store


class InspectApi:
    def __init__(self, store: Store, stats: Stats, reset: Callable[[], None]) -> None:
        self._store = store
        self._stats = stats
        self._reset = reset

    def register(self, router: Router) -> None:
        router.add("GET", "/_double/dashboards", self.dashboards, public=True)
        router.add("GET", "/_double/datasources/{uid}/secure", self.secure, public=True)
        router.add("GET", "/_double/stats", self.stats, public=True)
        router.add("POST", "/_double/reset", self.reset, public=True)

    def dashboards(self, _: Request) -> Response:
        return ok([stored_dashboard(dash) for dash in self._store.dashboards()])

    def secure(self, request: Request) -> Response:
        return ok(dict(self._store.datasource("uid", request.params["uid"]).secure_json_data))

    def stats(self, _: Request) -> Response:
        return ok(self._stats.snapshot())

    def reset(self, _: Request) -> Response:
        self._reset()
        return ok({"reset": "all"})


def stored_dashboard(dash: Dashboard) -> dict[str, Any]:
    return {"dashboard": dash.data, "folderUid": dash.folder_uid, "message": dash.message}
