"""/api/v2/authorizations: API tokens (authorization/http_server.go, middleware_auth.go).

Creating a token needs write on the org's authorizations and on the user, and the caller
must itself hold every permission it grants (403 "permission ... is not allowed").
Listing returns the tokens the caller may read; PATCH sets status active|inactive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import errors
from .authz import authenticate, can, require
from .context import Context
from .errors import ApiError
from .ids import optional_id, parse_id
from .model import STATUSES, Authorization
from .permissions import (
    AUTHORIZATIONS,
    READ,
    USERS,
    WRITE,
    Permission,
    allows,
    at,
    permission_from_json,
)
from .render import authorization_json
from .routing import Request, Response, Router, json_response, no_content


class AuthorizationsApi:
    def __init__(self, context: Context) -> None:
        self._store = context.store

    def register(self, router: Router) -> None:
        router.add("GET", "/api/v2/authorizations", self.list_authorizations)
        router.add("POST", "/api/v2/authorizations", self.create_authorization)
        router.add("GET", "/api/v2/authorizations/{id}", self.get_authorization)
        router.add("PATCH", "/api/v2/authorizations/{id}", self.update_authorization)
        router.add("DELETE", "/api/v2/authorizations/{id}", self.delete_authorization)

    def list_authorizations(self, request: Request) -> Response:
        caller = authenticate(self._store, request.headers)
        found = self._matching(request.query)
        readable = [a for a in found if all(can(caller, p) for p in _access(READ, a))]
        return json_response(
            200,
            {
                "links": {"self": "/api/v2/authorizations"},
                "authorizations": [authorization_json(a, self._store) for a in readable],
            },
        )

    def _matching(self, query: Mapping[str, str]) -> list[Authorization]:
        user_id, org_id = optional_id(query.get("userID")), optional_id(query.get("orgID"))
        if query.get("user"):
            user_id = self._store.user_named(query["user"]).id
        if query.get("org"):
            org_id = self._store.org_named(query["org"]).id
        auth_id = optional_id(query.get("id"))
        return [
            auth
            for auth in self._store.authorizations()
            if (user_id is None or auth.user_id == user_id)
            and (org_id is None or auth.org_id == org_id)
            and (auth_id is None or auth.id == auth_id)
        ]

    def create_authorization(self, request: Request) -> Response:
        caller = authenticate(self._store, request.headers)
        body = request.json_object()
        permissions, org_id, status = _validated(body)
        user_id = optional_id(body.get("userID")) or caller.user_id
        require(caller, at(WRITE, AUTHORIZATIONS, org_id))
        require(caller, at(WRITE, USERS, None, user_id))
        _check_grantable(caller, permissions)
        _check_same_org(permissions, org_id)
        auth = self._store.create_authorization(
            org_id, user_id, permissions, str(body.get("description") or ""), status
        )
        return json_response(201, authorization_json(auth, self._store))

    def get_authorization(self, request: Request) -> Response:
        caller = authenticate(self._store, request.headers)
        auth = self._store.authorization(parse_id(request.params["id"]))
        for permission in _access(READ, auth):
            require(caller, permission)
        return json_response(200, authorization_json(auth, self._store))

    def update_authorization(self, request: Request) -> Response:
        caller = authenticate(self._store, request.headers)
        auth = self._store.authorization(parse_id(request.params["id"]))
        body = request.json_object()
        status = body.get("status")
        if status is not None and status not in STATUSES:
            raise errors.invalid("status must be active or inactive")
        for permission in _access(WRITE, auth):
            require(caller, permission)
        updated = self._store.update_authorization(auth.id, status, body.get("description"))
        return json_response(200, authorization_json(updated, self._store))

    def delete_authorization(self, request: Request) -> Response:
        caller = authenticate(self._store, request.headers)
        auth = self._store.authorization(parse_id(request.params["id"]))
        for permission in _access(WRITE, auth):
            require(caller, permission)
        self._store.delete_authorization(auth.id)
        return no_content()


def _access(action: str, auth: Authorization) -> tuple[Permission, Permission]:
    """What reading or changing a token asks for: the token itself and its user."""
    return at(action, AUTHORIZATIONS, auth.org_id, auth.id), at(action, USERS, None, auth.user_id)


def _validated(body: dict[str, Any]) -> tuple[list[Permission], str, str]:
    raw = body.get("permissions")
    if not isinstance(raw, list) or not raw:
        raise errors.invalid("authorization must include permissions")
    permissions = [permission_from_json(item) for item in raw]
    if not body.get("orgID"):
        raise errors.invalid("org id required")
    status = body.get("status") or "active"
    if status not in STATUSES:
        raise errors.invalid("status must be active or inactive")
    return permissions, parse_id(str(body["orgID"])), status


def _check_grantable(caller: Authorization, permissions: list[Permission]) -> None:
    """No escalation: a token can only grant what it holds itself."""
    for permission in permissions:
        if not allows(caller.permissions, permission):
            raise ApiError(
                errors.FORBIDDEN,
                f"permission {permission} is not allowed: {permission} is unauthorized",
            )


def _check_same_org(permissions: list[Permission], org_id: str) -> None:
    for permission in permissions:
        if permission.resource.org_id and permission.resource.org_id != org_id:
            raise errors.invalid(f"permission {permission} is not for org id {org_id}")
