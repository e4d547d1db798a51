"""/api/v2/buckets: list, create, get and delete buckets (tenant/http_server_bucket.go).

Listing returns only the buckets the token may read; getting one it may not read is 401;
creating needs write on the org's buckets, deleting needs write on the bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import errors
from .authz import authenticate, bucket_read_permission, can, require
from .config import MIN_RETENTION_S
from .context import Context
from .errors import ApiError
from .ids import optional_id, parse_id
from .model import Bucket
from .permissions import BUCKETS, WRITE, at
from .render import bucket_json
from .routing import Request, Response, Router, json_response, no_content

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class BucketsApi:
    def __init__(self, context: Context) -> None:
        self._store = context.store

    def register(self, router: Router) -> None:
        router.add("GET", "/api/v2/buckets", self.list_buckets)
        router.add("POST", "/api/v2/buckets", self.create_bucket)
        router.add("GET", "/api/v2/buckets/{id}", self.get_bucket)
        router.add("PATCH", "/api/v2/buckets/{id}", self.patch_bucket)
        router.add("DELETE", "/api/v2/buckets/{id}", self.delete_bucket)

    def list_buckets(self, request: Request) -> Response:
        auth = authenticate(self._store, request.headers)
        limit, offset = page_options(request.query)
        page = paginate(self._matching(request.query), limit, offset, request.query.get("after"))
        readable = [b for b in page if can(auth, bucket_read_permission(b))]
        links = {"self": f"/api/v2/buckets?descending=false&limit={limit}&offset={offset}"}
        if len(page) == limit:
            links["next"] = (
                f"/api/v2/buckets?descending=false&limit={limit}&offset={offset + limit}"
            )
        return json_response(200, {"links": links, "buckets": [bucket_json(b) for b in readable]})

    def _matching(self, query: Mapping[str, str]) -> list[Bucket]:
        """Buckets matching the filters, as the tenant service finds them."""
        if bucket_id := optional_id(query.get("id")):
            return [self._store.bucket(bucket_id)]
        org_id, name = optional_id(query.get("orgID")), query.get("name") or None
        if org_id and name:
            return [self._store.bucket_named(org_id, name)]
        if not org_id and query.get("org"):
            org_id = self._store.org_named(query["org"]).id
        found = [
            b
            for b in self._store.buckets()
            if (org_id is None or b.org_id == org_id) and (name is None or b.name == name)
        ]
        return sorted(found, key=lambda b: b.name) if org_id else found

    def create_bucket(self, request: Request) -> Response:
        auth = authenticate(self._store, request.headers)
        body = request.json_object()
        org_id = _org_id(body.get("orgID"))
        retention = retention_from_rules(body.get("retentionRules") or [])
        name = bucket_name(body.get("name"))
        require(auth, at(WRITE, BUCKETS, org_id))
        bucket = self._store.create_bucket(org_id, name, body.get("description") or "", retention)
        return json_response(201, bucket_json(bucket))

    def get_bucket(self, request: Request) -> Response:
        auth = authenticate(self._store, request.headers)
        bucket = self._store.bucket(parse_id(request.params["id"]))
        require(auth, bucket_read_permission(bucket))
        return json_response(200, bucket_json(bucket))

    def patch_bucket(self, request: Request) -> Response:
        """PatchBucketRequest: name, description, retentionRules ([] = infinite)."""
        auth = authenticate(self._store, request.headers)
        bucket = self._store.bucket(parse_id(request.params["id"]))
        require(auth, at(WRITE, BUCKETS, bucket.org_id, bucket.id))
        body = request.json_object()
        rules = body.get("retentionRules")
        updated = self._store.update_bucket(
            bucket.id,
            name=bucket_name(body["name"]) if "name" in body else None,
            description=str(body["description"]) if "description" in body else None,
            retention_seconds=None if rules is None else retention_from_rules(rules),
        )
        return json_response(200, bucket_json(updated))

    def delete_bucket(self, request: Request) -> Response:
        auth = authenticate(self._store, request.headers)
        bucket = self._store.bucket(parse_id(request.params["id"]))
        require(auth, at(WRITE, BUCKETS, bucket.org_id, bucket.id))
        self._store.delete_bucket(bucket.id)
        return no_content()


def _org_id(value: Any) -> str:
    if not value:
        raise errors.invalid("organization id must be provided")
    return parse_id(str(value))


def bucket_name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise errors.invalid("name is empty")
    if name.startswith("_"):
        raise ApiError(
            errors.UNPROCESSABLE,
            f"bucket name {name} is invalid. Buckets may not start with underscore",
        )
    return name


def retention_from_rules(rules: Any) -> int:
    """Seconds of the (single) expire rule; 0 is infinite."""
    if not isinstance(rules, list):
        raise errors.invalid("failed to decode request body: retentionRules must be a list")
    if not rules:
        return 0
    rule = rules[0] if isinstance(rules[0], dict) else {}
    return check_retention(rule.get("everySeconds", 0))


def check_retention(seconds: Any) -> int:
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise errors.invalid("failed to decode request body: everySeconds must be an integer")
    if seconds < 0:
        raise ApiError(errors.UNPROCESSABLE, "expiration seconds cannot be negative")
    if 0 < seconds < MIN_RETENTION_S:
        raise ApiError(errors.INTERNAL, "retention policy duration must be at least 1h0m0s")
    return seconds


def page_options(query: Mapping[str, str]) -> tuple[int, int]:
    """limit (default 20, at most 100) and offset, as decodeFindOptions reads them."""
    try:
        limit = int(query.get("limit") or DEFAULT_PAGE_SIZE)
        offset = int(query.get("offset") or 0)
    except ValueError:
        raise errors.invalid("limit and offset must be integers") from None
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.invalid(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if offset < 0:
        raise errors.invalid("offset must be greater than or equal to 0")
    return limit, offset


def paginate(items: list[Bucket], limit: int, offset: int, after: str | None) -> list[Bucket]:
    if after:
        ids = [item.id for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return items[offset : offset + limit]
