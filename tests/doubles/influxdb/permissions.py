"""InfluxDB 2 token permissions: {action, resource: {type, id?, orgID?}} and how they match.

A permission without id and orgID covers every resource of its type; one with only orgID
covers the type inside that org; one with an id covers that resource (influxdb authz.go,
Permission.Matches). Operator tokens hold read and write on every type, everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, invalid
from .ids import parse_id

READ = "read"
WRITE = "write"
ACTIONS = (READ, WRITE)

AUTHORIZATIONS = "authorizations"
BUCKETS = "buckets"
ORGS = "orgs"
USERS = "users"

# AllResourceTypes of InfluxDB OSS 2.7 (authz.go).
RESOURCE_TYPES = (
    AUTHORIZATIONS,
    BUCKETS,
    "dashboards",
    ORGS,
    "sources",
    "tasks",
    "telegrafs",
    USERS,
    "variables",
    "scrapers",
    "secrets",
    "labels",
    "views",
    "documents",
    "notificationRules",
    "notificationEndpoints",
    "checks",
    "dbrp",
    "notebooks",
    "annotations",
    "remotes",
    "replications",
)

NameLookup = Callable[[str, str], str | None]


@dataclass(frozen=True)
class Resource:
    type: str
    id: str | None = None
    org_id: str | None = None

    def __str__(self) -> str:
        if self.org_id and self.id:
            return f"{ORGS}/{self.org_id}/{self.type}/{self.id}"
        if self.org_id:
            return f"{ORGS}/{self.org_id}/{self.type}"
        if self.id:
            return f"{self.type}/{self.id}"
        return self.type


@dataclass(frozen=True)
class Permission:
    action: str
    resource: Resource

    def __str__(self) -> str:
        return f"{self.action}:{self.resource}"

    def matches(self, wanted: Permission) -> bool:
        """Whether holding self grants `wanted`."""
        mine, other = self.resource, wanted.resource
        if self.action != wanted.action or mine.type != other.type:
            return False
        if mine.id is None:
            return mine.org_id is None or mine.org_id == other.org_id
        if mine.id != other.id:
            return False
        return mine.org_id is None or other.org_id in (None, mine.org_id)

    def to_json(self, names: NameLookup) -> dict[str, Any]:
        """The response shape, with the resource's and org's names filled in."""
        resource: dict[str, Any] = {"type": self.resource.type}
        if self.resource.id:
            resource["id"] = self.resource.id
            _put_name(resource, "name", names(self.resource.type, self.resource.id))
        if self.resource.org_id:
            resource["orgID"] = self.resource.org_id
            _put_name(resource, "org", names(ORGS, self.resource.org_id))
        return {"action": self.action, "resource": resource}


def _put_name(target: dict[str, Any], key: str, name: str | None) -> None:
    if name is not None:
        target[key] = name


def permission_from_json(data: Any) -> Permission:
    """A permission from a request body, validated as the server validates it."""
    if not isinstance(data, dict) or not isinstance(data.get("resource"), dict):
        raise invalid("invalid json structure: permission needs action and resource")
    resource = data["resource"]
    if resource.get("type") not in RESOURCE_TYPES:
        raise invalid("invalid resource type for permission: unknown resource type for permission")
    if data.get("action") not in ACTIONS:
        raise invalid("invalid action type for permission: unknown action for permission")
    return Permission(
        data["action"],
        Resource(
            resource["type"],
            _permission_id(resource.get("id"), "invalid id for permission"),
            _permission_id(resource.get("orgID"), "invalid org id for permission"),
        ),
    )


def _permission_id(value: Any, message: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return parse_id(str(value))
    except ApiError:
        raise invalid(message) from None


def allows(held: Iterable[Permission], wanted: Permission) -> bool:
    return any(permission.matches(wanted) for permission in held)


def operator_permissions() -> tuple[Permission, ...]:
    """What the setup (onboarding) token holds: everything."""
    return tuple(Permission(a, Resource(t)) for t in RESOURCE_TYPES for a in ACTIONS)


def all_access_permissions(org_id: str) -> tuple[Permission, ...]:
    """An org's all-access token (`influx auth create --all-access`)."""
    return tuple(
        Permission(a, Resource(t, id=org_id) if t == ORGS else Resource(t, org_id=org_id))
        for t in RESOURCE_TYPES
        for a in ACTIONS
    )


def at(
    action: str, resource_type: str, org_id: str | None, resource_id: str | None = None
) -> Permission:
    """The permission an operation asks for."""
    return Permission(action, Resource(resource_type, id=resource_id, org_id=org_id))
