"""The double's resources: users, organizations, buckets and authorizations (tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .permissions import Permission

ACTIVE = "active"
INACTIVE = "inactive"
STATUSES = (ACTIVE, INACTIVE)

USER_BUCKET = "user"
SYSTEM_BUCKET = "system"

HOUR_S = 3_600
DAY_S = 24 * HOUR_S
# The system buckets every new organization gets (tenant CreateOrganization).
SYSTEM_BUCKETS = (
    ("_tasks", 3 * DAY_S, "System bucket for task logs"),
    ("_monitoring", 7 * DAY_S, "System bucket for monitoring logs"),
)


@dataclass
class User:
    id: str
    name: str
    status: str = ACTIVE
    password: str | None = field(default=None, repr=False)


@dataclass
class Org:
    id: str
    name: str
    description: str
    created_ns: int
    updated_ns: int
    members: set[str] = field(default_factory=set)


@dataclass
class Bucket:
    id: str
    org_id: str
    name: str
    type: str
    description: str
    retention_seconds: int
    shard_group_seconds: int
    created_ns: int
    updated_ns: int


@dataclass
class Authorization:
    id: str
    token: str = field(repr=False)
    status: str
    description: str
    org_id: str
    user_id: str
    permissions: tuple[Permission, ...]
    created_ns: int
    updated_ns: int

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def shard_group_seconds(retention_seconds: int) -> int:
    """The storage engine's default shard group duration for a retention period."""
    if retention_seconds == 0 or retention_seconds >= 180 * DAY_S:
        return 7 * DAY_S
    if retention_seconds >= 2 * DAY_S:
        return DAY_S
    return HOUR_S
