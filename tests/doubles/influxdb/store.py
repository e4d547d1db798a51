"""The double's whole state, in memory, behind one lock.

The store checks what the server's storage layer checks (existence, unique names, setup
done once); who may do what is decided by the API layer (authz.py), as in the server.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import ApiError, not_found
from .ids import new_id, new_token
from .lineprotocol import Point
from .model import (
    ACTIVE,
    SYSTEM_BUCKET,
    SYSTEM_BUCKETS,
    USER_BUCKET,
    Authorization,
    Bucket,
    Org,
    User,
    shard_group_seconds,
)
from .permissions import BUCKETS, ORGS, USERS, Permission, operator_permissions
from .points import PointStore, WriteOutcome
from .uniform import Columns, PointKey

Clock = Callable[[], int]


@dataclass(frozen=True)
class Onboarding:
    user: User
    org: Org
    bucket: Bucket
    auth: Authorization


class Store:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._points = PointStore()
        self._users: dict[str, User] = {}
        self._orgs: dict[str, Org] = {}
        self._buckets: dict[str, Bucket] = {}
        self._auths: dict[str, Authorization] = {}
        # Inspection hook for benchmarks: called after each stored write with (bucket
        # name, (measurement, tags, time_ns) of each point, wall-clock ns when readable).
        self.write_listeners: list[Callable[[str, Iterable[PointKey], int], None]] = []

    def now_ns(self) -> int:
        return self._clock()

    # --- setup -------------------------------------------------------------------------

    def onboarding_allowed(self) -> bool:
        with self._lock:
            return not self._users and not self._orgs

    def onboard(
        self,
        username: str,
        password: str | None,
        org: str,
        bucket: str,
        retention_seconds: int,
        token: str | None,
    ) -> Onboarding:
        """Initial user, org, bucket and operator token; only once (422 afterwards)."""
        with self._lock:
            if not self.onboarding_allowed():
                raise ApiError(errors.CONFLICT, "onboarding has already been completed")
            user = self._add_user(username, password)
            new_org = self.create_org(org, "", user.id)
            new_bucket = self.create_bucket(new_org.id, bucket, "", retention_seconds)
            auth = self.create_authorization(
                new_org.id, user.id, operator_permissions(), f"{username}'s Token", ACTIVE, token
            )
            return Onboarding(user, new_org, new_bucket, auth)

    def _add_user(self, name: str, password: str | None) -> User:
        user = User(new_id(), name, password=password)
        self._users[user.id] = user
        return user

    # --- users and orgs ----------------------------------------------------------------

    def user(self, user_id: str) -> User:
        with self._lock:
            if user_id not in self._users:
                raise not_found("user not found")
            return self._users[user_id]

    def user_named(self, name: str) -> User:
        with self._lock:
            for user in self._users.values():
                if user.name == name:
                    return user
            raise not_found(f'user "{name}" not found')

    def create_org(self, name: str, description: str, owner_id: str | None) -> Org:
        with self._lock:
            if any(org.name == name for org in self._orgs.values()):
                raise ApiError(errors.CONFLICT, f"organization with name {name} already exists")
            now = self._clock()
            org = Org(new_id(), name, description, now, now, {owner_id} if owner_id else set())
            self._orgs[org.id] = org
            for bucket_name, retention, about in SYSTEM_BUCKETS:
                self.create_bucket(org.id, bucket_name, about, retention, SYSTEM_BUCKET)
            return org

    def org(self, org_id: str) -> Org:
        with self._lock:
            if org_id not in self._orgs:
                raise not_found("organization not found")
            return self._orgs[org_id]

    def org_named(self, name: str) -> Org:
        with self._lock:
            for org in self._orgs.values():
                if org.name == name:
                    return org
            raise not_found(f'organization name "{name}" not found')

    def orgs(self) -> list[Org]:
        with self._lock:
            return sorted(self._orgs.values(), key=lambda org: org.id)

    # --- buckets -----------------------------------------------------------------------

    def create_bucket(
        self,
        org_id: str,
        name: str,
        description: str,
        retention_seconds: int,
        kind: str = USER_BUCKET,
    ) -> Bucket:
        with self._lock:
            self.org(org_id)
            if any(b.org_id == org_id and b.name == name for b in self._buckets.values()):
                raise ApiError(errors.CONFLICT, f"bucket with name {name} already exists")
            now = self._clock()
            bucket = Bucket(
                new_id(),
                org_id,
                name,
                kind,
                description,
                retention_seconds,
                shard_group_seconds(retention_seconds),
                now,
                now,
            )
            self._buckets[bucket.id] = bucket
            return bucket

    def bucket(self, bucket_id: str) -> Bucket:
        with self._lock:
            if bucket_id not in self._buckets:
                raise not_found("bucket not found")
            return self._buckets[bucket_id]

    def bucket_named(self, org_id: str, name: str) -> Bucket:
        with self._lock:
            for bucket in self._buckets.values():
                if bucket.org_id == org_id and bucket.name == name:
                    return bucket
            raise not_found(f'bucket "{name}" not found')

    def buckets(self) -> list[Bucket]:
        with self._lock:
            return sorted(self._buckets.values(), key=lambda bucket: bucket.id)

    def update_bucket(
        self,
        bucket_id: str,
        name: str | None = None,
        description: str | None = None,
        retention_seconds: int | None = None,
    ) -> Bucket:
        """PATCH semantics: only the given attributes change."""
        with self._lock:
            bucket = self.bucket(bucket_id)
            if name is not None and name != bucket.name:
                if bucket.type == SYSTEM_BUCKET:
                    raise errors.invalid("system buckets cannot be renamed")
                taken = (
                    b.org_id == bucket.org_id and b.name == name for b in self._buckets.values()
                )
                if any(taken):
                    raise ApiError(errors.CONFLICT, f"bucket with name {name} already exists")
            changes: dict[str, object] = {"updated_ns": self._clock()}
            if name is not None:
                changes["name"] = name
            if description is not None:
                changes["description"] = description
            if retention_seconds is not None:
                changes["retention_seconds"] = retention_seconds
                changes["shard_group_seconds"] = shard_group_seconds(retention_seconds)
            updated = dataclasses.replace(bucket, **changes)
            self._buckets[bucket_id] = updated
            return updated

    def delete_bucket(self, bucket_id: str) -> None:
        with self._lock:
            if self.bucket(bucket_id).type == SYSTEM_BUCKET:
                raise errors.invalid("system buckets cannot be deleted")
            del self._buckets[bucket_id]
            self._points.drop_bucket(bucket_id)

    # --- authorizations ----------------------------------------------------------------

    def create_authorization(
        self,
        org_id: str,
        user_id: str,
        permissions: Iterable[Permission],
        description: str,
        status: str,
        token: str | None = None,
    ) -> Authorization:
        with self._lock:
            self.org(org_id)
            self.user(user_id)
            token = token or new_token()
            if any(auth.token == token for auth in self._auths.values()):
                raise ApiError(errors.CONFLICT, "token already exists")
            now = self._clock()
            auth = Authorization(
                new_id(),
                token,
                status,
                description,
                org_id,
                user_id,
                tuple(permissions),
                now,
                now,
            )
            self._auths[auth.id] = auth
            return auth

    def authorization(self, auth_id: str) -> Authorization:
        with self._lock:
            if auth_id not in self._auths:
                raise not_found("authorization not found")
            return self._auths[auth_id]

    def authorization_for_token(self, token: str) -> Authorization | None:
        with self._lock:
            return next((a for a in self._auths.values() if a.token == token), None)

    def authorizations(self) -> list[Authorization]:
        with self._lock:
            return sorted(self._auths.values(), key=lambda auth: auth.id)

    def update_authorization(
        self, auth_id: str, status: str | None, description: str | None
    ) -> Authorization:
        with self._lock:
            auth = self.authorization(auth_id)
            auth.status = status or auth.status
            auth.description = auth.description if description is None else description
            auth.updated_ns = self._clock()
            return auth

    def delete_authorization(self, auth_id: str) -> None:
        with self._lock:
            self.authorization(auth_id)
            del self._auths[auth_id]

    # --- names, points, reset ----------------------------------------------------------

    def name_of(self, resource_type: str, resource_id: str) -> str | None:
        """A resource's name for permission responses (None when unknown)."""
        with self._lock:
            found: Any = {
                BUCKETS: self._buckets,
                ORGS: self._orgs,
                USERS: self._users,
            }.get(resource_type, {}).get(resource_id)
            return found.name if found else None

    def write(self, bucket_id: str, points: list[Point]) -> WriteOutcome:
        with self._lock:
            bucket = self.bucket(bucket_id)
            outcome = self._points.write(bucket_id, points, self._cutoff(bucket))
        self._tell_listeners(bucket, lambda: ((p.measurement, p.tags, p.time_ns) for p in points))
        return outcome

    def write_columns(self, bucket_id: str, columns: Columns) -> WriteOutcome:
        """A uniform write (uniform.py), the same rules and outcome as write()."""
        with self._lock:
            bucket = self.bucket(bucket_id)
            outcome = self._points.write_columns(bucket_id, columns, self._cutoff(bucket))
        self._tell_listeners(bucket, columns.keys)
        return outcome

    def _cutoff(self, bucket: Bucket) -> int | None:
        """Points older than this are beyond the bucket's retention (None: kept forever)."""
        if not bucket.retention_seconds:
            return None
        return self._clock() - bucket.retention_seconds * 1_000_000_000

    def _tell_listeners(self, bucket: Bucket, keys: Callable[[], Iterable[PointKey]]) -> None:
        stored_ns = time.time_ns()
        for listener in self.write_listeners:
            listener(bucket.name, keys(), stored_ns)

    def points(self, bucket_id: str, measurement: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._points.points(bucket_id, measurement)

    def clear_points(self) -> None:
        with self._lock:
            self._points.clear()

    def clear(self) -> None:
        with self._lock:
            self._points.clear()
            for table in (self._users, self._orgs, self._buckets, self._auths):
                table.clear()
