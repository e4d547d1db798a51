"""The double's own inspection API under /_double/: not part of InfluxDB, tests only.

GET  /_double/points?bucket=NAME[&measurement=M][&org=ORG]
     -> [{"measurement", "tags", "fields", "field_types", "time_ns"}, ...]
GET  /_double/stats  -> requests per route, write requests, lines written
POST /_double/reset[?scope=points]
     -> scope=all (default): back to the startup state (empty, or the DOCKER_INFLUXDB_INIT_*
        setup again); scope=points: stored points and counters only
No token is needed: the double is only ever bound for tests.
"""

from __future__ import annotations

from collections.abc import Callable

from . import errors
from .context import Context
from .model import Bucket
from .routing import Request, Response, Router, json_response
from .store import Store


class InspectApi:
    def __init__(self, context: Context, reset: Callable[[bool], None]) -> None:
        self._context = context
        self._reset = reset

    def register(self, router: Router) -> None:
        router.add("GET", "/_double/points", self.points)
        router.add("GET", "/_double/stats", self.stats)
        router.add("POST", "/_double/reset", self.reset)

    def points(self, request: Request) -> Response:
        name = request.query.get("bucket")
        if not name:
            raise errors.invalid("the bucket parameter is required")
        bucket = find_bucket(self._context.store, name, request.query.get("org"))
        measurement = request.query.get("measurement") or None
        return json_response(200, self._context.store.points(bucket.id, measurement))

    def stats(self, _: Request) -> Response:
        return json_response(200, self._context.stats.snapshot())

    def reset(self, request: Request) -> Response:
        scope = request.query.get("scope") or "all"
        if scope not in ("all", "points"):
            raise errors.invalid("scope must be all or points")
        self._reset(scope == "points")
        return json_response(200, {"reset": scope})


def find_bucket(store: Store, name: str, org: str | None = None) -> Bucket:
    """The bucket of that name (in that org, when several orgs have one)."""
    org_id = store.org_named(org).id if org else None
    found = [b for b in store.buckets() if b.name == name and org_id in (None, b.org_id)]
    if not found:
        raise errors.not_found(f'bucket "{name}" not found')
    if len(found) > 1:
        raise errors.invalid(f'several orgs have a bucket "{name}": add the org parameter')
    return found[0]
