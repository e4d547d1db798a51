"""Who is calling, and may they? Token authentication and permission checks.

Authentication (http/authentication_middleware.go): `Authorization: Token <t>` or
`Bearer <t>`; a missing header, another scheme or an unknown token is
401 {"code":"unauthorized","message":"unauthorized access"}.
Authorization (authorizer/authorize.go): an operation asks for one permission; without it
the answer is 401 "<action>:<resource> is unauthorized", and an inactive token is
401 "token is inactive". Writes are the exception and answer 403 (api_write.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import unauthorized
from .model import SYSTEM_BUCKET, Authorization, Bucket
from .permissions import BUCKETS, ORGS, READ, Permission, allows, at
from .store import Store

_SCHEMES = ("token ", "bearer ")


def token_from_header(value: str | None) -> str | None:
    if not value:
        return None
    for scheme in _SCHEMES:
        if value[: len(scheme)].lower() == scheme:
            return value[len(scheme) :]
    return None


def authenticate(store: Store, headers: Mapping[str, str]) -> Authorization:
    token = token_from_header(headers.get("Authorization"))
    auth = store.authorization_for_token(token) if token else None
    if auth is None:
        raise unauthorized()
    return auth


def can(auth: Authorization, wanted: Permission) -> bool:
    return auth.active and allows(auth.permissions, wanted)


def require(auth: Authorization, wanted: Permission) -> None:
    if not auth.active:
        raise unauthorized("token is inactive")
    if not allows(auth.permissions, wanted):
        raise unauthorized(f"{wanted} is unauthorized")


def bucket_read_permission(bucket: Bucket) -> Permission:
    """Reading a system bucket needs read on its org (authorizer.AuthorizeReadBucket)."""
    if bucket.type == SYSTEM_BUCKET:
        return at(READ, ORGS, None, bucket.org_id)
    return at(READ, BUCKETS, bucket.org_id, bucket.id)


def org_read_permission(org_id: str) -> Permission:
    return at(READ, ORGS, None, org_id)
