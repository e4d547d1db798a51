"""The data source API (/api/datasources), as pkg/api/datasources.go serves it.

secureJsonData is write-only: it is stored (GET /_double/datasources/{uid}/secure shows it to
tests) but responses only list its keys with a value in secureJsonFields. An update keeps
the secrets it does not send again.
Grafana binds type and access as required; a missing name is generated from the type.
The double also insists that access is "proxy" or "direct", the two documented values.
"""

from __future__ import annotations

from typing import Any

from . import errors, fields
from .model import ACCESS_MODES, DataSource
from .render import datasource_json, datasource_list_item
from .routing import Request, Response, Router, ok
from .store import Store

DELETED = "Data source deleted"


class DataSourcesApi:
    def __init__(self, store: Store) -> None:
        self._store = store

    def register(self, router: Router) -> None:
        router.add("GET", "/api/datasources", self.list)
        router.add("POST", "/api/datasources", self.create)
        for key in ("uid", "name"):
            router.add("GET", f"/api/datasources/{key}/{{{key}}}", self.get)
            router.add("DELETE", f"/api/datasources/{key}/{{{key}}}", self.delete)
        router.add("PUT", "/api/datasources/uid/{uid}", self.update)
        router.add("GET", "/api/datasources/id/{name}", self.id_by_name)
        router.add("GET", "/api/datasources/{id}", self.get)
        router.add("PUT", "/api/datasources/{id}", self.update)
        router.add("DELETE", "/api/datasources/{id}", self.delete)

    def list(self, _: Request) -> Response:
        return ok([datasource_list_item(ds) for ds in self._store.datasources()])

    def get(self, request: Request) -> Response:
        return ok(datasource_json(self._find(request)))

    def id_by_name(self, request: Request) -> Response:
        return ok({"id": self._store.datasource("name", request.params["name"]).id})

    def create(self, request: Request) -> Response:
        ds = self._store.add_datasource(read_datasource(request.json_object(), update=False))
        return ok(_saved("Datasource added", ds))

    def update(self, request: Request) -> Response:
        body = request.json_object()
        new = read_datasource(body, update=True)
        current = self._find(request)
        new.uid = new.uid or current.uid
        ds = self._store.update_datasource(current, new, fields.integer(body, "version"))
        return ok(_saved("Datasource updated", ds))

    def delete(self, request: Request) -> Response:
        ds = self._find(request)
        self._store.delete_datasource(ds)
        if "id" in request.params:
            return ok({"message": DELETED})
        return ok({"message": DELETED, "id": ds.id})

    def _find(self, request: Request) -> DataSource:
        params = request.params
        if "id" in params:
            return self._store.datasource("id", _datasource_id(params["id"]))
        key = "uid" if "uid" in params else "name"
        return self._store.datasource(key, params[key])


def read_datasource(body: dict[str, Any], update: bool) -> DataSource:
    """The data source a create or update body describes (id 0 until stored)."""
    name, ds_type = fields.string(body, "name"), fields.string(body, "type")
    access = fields.string(body, "access")
    if not ds_type or not access or (update and not name):
        raise errors.bad_request()
    if access not in ACCESS_MODES:
        raise errors.bad_request(
            f'access must be "proxy" or "direct", not {access!r} '
            "(checked by the StreamLab Grafana test double)"
        )
    return DataSource(
        id=0,
        uid=fields.string(body, "uid"),
        name=name,
        type=ds_type,
        access=access,
        url=fields.string(body, "url"),
        user=fields.string(body, "user"),
        database=fields.string(body, "database"),
        basic_auth=fields.boolean(body, "basicAuth"),
        basic_auth_user=fields.string(body, "basicAuthUser"),
        with_credentials=fields.boolean(body, "withCredentials"),
        is_default=fields.boolean(body, "isDefault"),
        json_data=fields.obj(body, "jsonData") or {},
        secure_json_data=dict(fields.string_map(body, "secureJsonData")),
    )


def _datasource_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise errors.bad_request("id is invalid") from None


def _saved(message: str, ds: DataSource) -> dict[str, Any]:
    return {"message": message, "id": ds.id, "name": ds.name, "datasource": datasource_json(ds)}
