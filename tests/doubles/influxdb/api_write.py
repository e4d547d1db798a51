"""POST /api/v2/write (http/write_handler.go) and POST /api/v2/query (not implemented).

The write handler's order of checks, and its answers:
  token missing or unknown            401 unauthorized access
  precision not ns|us|ms|s            400 invalid precision ...
  no bucket parameter                 404 bucket not found
  body not gzip though it says so     400 unable to read data: ...
  body larger than the limit          413 unable to read data: points batch is too large
  no org / orgID parameter            400 Please provide either orgID or org
  org or bucket unknown               404 organization name "x" not found / bucket "x" not found
  token without write on the bucket   403 insufficient permissions for write
  empty body                          400 writing requires points
  malformed lines                     400 unable to parse '<line>': <reason> (whole batch refused)
  points the engine refuses           422 failure writing points to database: partial write: ...
  otherwise                           204
Lookups of org and bucket do not depend on the token, so a token that may not write a
bucket gets 403 whether or not it may read it (the write handler uses the unauthorized
bucket service and checks write permission itself).
"""

from __future__ import annotations

import gc
import gzip
import io
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from . import errors
from .authz import authenticate, can
from .context import Context
from .errors import ApiError
from .ids import is_id, parse_id
from .lineprotocol import PRECISION_NS, ParseResult, parse
from .model import Authorization, Bucket, Org
from .permissions import BUCKETS, WRITE, at
from .points import WriteOutcome
from .routing import Request, Response, Router, no_content
from .uniform import read_uniform

_GZIP_ENCODINGS = ("gzip", "x-gzip")


class WriteApi:
    def __init__(self, context: Context) -> None:
        self._store = context.store
        self._stats = context.stats
        self._max_body_bytes = context.config.max_body_bytes

    def register(self, router: Router) -> None:
        router.add("POST", "/api/v2/write", self.write)
        router.add("POST", "/api/v2/query", self.query)

    def write(self, request: Request) -> Response:
        gzipped = _encoding(request) in _GZIP_ENCODINGS
        try:
            outcome = self._write(request)
        except ApiError:
            self._stats.count_write(accepted=False, gzipped=gzipped)
            raise
        accepted = outcome.reason is None
        self._stats.count_write(accepted, outcome.written, outcome.dropped, gzipped)
        if not accepted:
            raise ApiError(
                errors.UNPROCESSABLE,
                f"failure writing points to database: {outcome.partial_write_message}",
            )
        return no_content()

    def _write(self, request: Request) -> WriteOutcome:
        """Parse and store the body, or raise the error response."""
        auth = authenticate(self._store, request.headers)
        precision = request.query.get("precision") or "ns"
        if precision not in PRECISION_NS:
            raise errors.invalid("invalid precision; valid precision units are ns, us, ms, and s")
        if not request.query.get("bucket"):
            raise errors.not_found("bucket not found")
        body = self._read_body(request)
        org = self._organization(request.query)
        bucket = self._bucket(org, request.query["bucket"])
        _require_write(auth, bucket)
        with _cyclic_gc_paused():
            text = _text(body)
            columns = read_uniform(text, precision)
            if columns is not None:
                return self._store.write_columns(bucket.id, columns)
            parsed = _parsed(text, precision, self._store.now_ns())
            return self._store.write(bucket.id, parsed.points)

    def _read_body(self, request: Request) -> bytes:
        body = request.body
        if _encoding(request) in _GZIP_ENCODINGS:
            body = _gunzip(body, self._max_body_bytes)
        if self._max_body_bytes is not None and len(body) > self._max_body_bytes:
            raise ApiError(errors.TOO_LARGE, "unable to read data: points batch is too large")
        return body

    def _organization(self, query: Mapping[str, str]) -> Org:
        """org= takes a name or an ID, orgID= an ID; orgID wins (queryOrganization)."""
        org_id = parse_id(query["orgID"]) if query.get("orgID") else None
        name = query.get("org") or None
        if org_id is None and name and is_id(name):
            org_id, name = name.lower(), None
        if org_id:
            return self._store.org(org_id)
        if name:
            return self._store.org_named(name)
        raise errors.invalid("Please provide either orgID or org")

    def _bucket(self, org: Org, bucket: str) -> Bucket:
        """bucket= is tried as an ID first, then as a name (WriteHandler.findBucket)."""
        if is_id(bucket):
            found = [b for b in self._store.buckets() if b.id == bucket.lower()]
            if found and found[0].org_id == org.id:
                return found[0]
        return self._store.bucket_named(org.id, bucket)

    def query(self, request: Request) -> Response:
        authenticate(self._store, request.headers)
        raise ApiError(
            errors.NOT_IMPLEMENTED,
            "this is the StreamLab InfluxDB test double, which does not implement Flux: "
            "/api/v2/query is not available; tests read stored points from GET /_double/points",
        )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector off while a body is parsed and stored.

    A write allocates a few objects per point and the store only grows, so collections
    keep promoting them and re-walking the whole store: measured, that doubled the cost of
    a large write. Parsing and storing create no reference cycles (reference counting
    frees everything), and the collector catches up once it is back on. Concurrent writes
    may turn it back on early; that only costs time.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _encoding(request: Request) -> str:
    return (request.headers.get("Content-Encoding") or "").strip().lower()


def _require_write(auth: Authorization, bucket: Bucket) -> None:
    if not can(auth, at(WRITE, BUCKETS, bucket.org_id, bucket.id)):
        raise ApiError(errors.FORBIDDEN, "insufficient permissions for write")


def _gunzip(body: bytes, limit: int | None) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            return stream.read() if limit is None else stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise errors.invalid(f"unable to read data: gzip: {error}") from None


def _text(body: bytes) -> str:
    if not body:
        raise errors.invalid("writing requires points")
    return body.decode("utf-8", errors="replace")


def _parsed(text: str, precision: str, now_ns: int) -> ParseResult:
    parsed = parse(text, precision, now_ns)
    if parsed.errors:
        raise ApiError(
            errors.INVALID,
            "\n".join(error.message for error in parsed.errors),
            line=parsed.errors[0].line,
        )
    return parsed
