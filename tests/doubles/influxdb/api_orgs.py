"""/api/v2/orgs: list, create and get organizations (tenant/http_server_org.go).

Listing returns only the orgs the token may read (read:orgs/<id>); a token without global
read on orgs only sees orgs its user belongs to. Creating needs global write on orgs.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import errors
from .authz import authenticate, can, org_read_permission, require
from .context import Context
from .ids import is_id, parse_id
from .model import Authorization, Org
from .permissions import ORGS, READ, WRITE, at
from .render import org_json
from .routing import Request, Response, Router, json_response


class OrgsApi:
    def __init__(self, context: Context) -> None:
        self._store = context.store

    def register(self, router: Router) -> None:
        router.add("GET", "/api/v2/orgs", self.list_orgs)
        router.add("POST", "/api/v2/orgs", self.create_org)
        router.add("GET", "/api/v2/orgs/{id}", self.get_org)

    def list_orgs(self, request: Request) -> Response:
        auth = authenticate(self._store, request.headers)
        found = self._matching(request.query, auth)
        readable = [org for org in found if can(auth, org_read_permission(org.id))]
        return json_response(
            200, {"links": {"self": "/api/v2/orgs"}, "orgs": [org_json(o) for o in readable]}
        )

    def _matching(self, query: Mapping[str, str], auth: Authorization) -> list[Org]:
        org_id, user_id = _valid_id(query.get("orgID")), _valid_id(query.get("userID"))
        if org_id:
            return [self._store.org(org_id)]
        if query.get("org"):
            return [self._store.org_named(query["org"])]
        if not user_id and not can(auth, at(READ, ORGS, None)):
            user_id = auth.user_id
        return [org for org in self._store.orgs() if user_id is None or user_id in org.members]

    def create_org(self, request: Request) -> Response:
        auth = authenticate(self._store, request.headers)
        body = request.json_object()
        require(auth, at(WRITE, ORGS, None))
        name = str(body.get("name") or "").strip()
        if not name:
            raise errors.invalid("org name is empty")
        org = self._store.create_org(name, body.get("description") or "", auth.user_id)
        return json_response(201, org_json(org))

    def get_org(self, request: Request) -> Response:
        auth = authenticate(self._store, request.headers)
        org_id = parse_id(request.params["id"])
        require(auth, org_read_permission(org_id))
        return json_response(200, org_json(self._store.org(org_id)))


def _valid_id(value: str | None) -> str | None:
    """The server ignores malformed orgID/userID filters on this route."""
    return value.lower() if value and is_id(value) else None
