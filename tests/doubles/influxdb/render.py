"""Resources rendered in the JSON shapes of the InfluxDB 2.7 API responses."""

from __future__ import annotations

from typing import Any

from .ids import rfc3339
from .model import Authorization, Bucket, Org, User
from .store import Store


def bucket_json(bucket: Bucket) -> dict[str, Any]:
    self_link = f"/api/v2/buckets/{bucket.id}"
    body: dict[str, Any] = {
        "id": bucket.id,
        "orgID": bucket.org_id,
        "type": bucket.type,
        "name": bucket.name,
        "retentionRules": [
            {
                "type": "expire",
                "everySeconds": bucket.retention_seconds,
                "shardGroupDurationSeconds": bucket.shard_group_seconds,
            }
        ],
        "createdAt": rfc3339(bucket.created_ns),
        "updatedAt": rfc3339(bucket.updated_ns),
        "labels": [],
        "links": {
            "labels": f"{self_link}/labels",
            "members": f"{self_link}/members",
            "org": f"/api/v2/orgs/{bucket.org_id}",
            "owners": f"{self_link}/owners",
            "self": self_link,
            "write": f"/api/v2/write?org={bucket.org_id}&bucket={bucket.id}",
        },
    }
    if bucket.description:
        body["description"] = bucket.description
    return body


def org_json(org: Org) -> dict[str, Any]:
    self_link = f"/api/v2/orgs/{org.id}"
    return {
        "id": org.id,
        "name": org.name,
        "description": org.description,
        "createdAt": rfc3339(org.created_ns),
        "updatedAt": rfc3339(org.updated_ns),
        "links": {
            "buckets": f"/api/v2/buckets?org={org.name}",
            "dashboards": f"/api/v2/dashboards?org={org.name}",
            "labels": f"{self_link}/labels",
            "members": f"{self_link}/members",
            "owners": f"{self_link}/owners",
            "secrets": f"{self_link}/secrets",
            "self": self_link,
            "tasks": f"/api/v2/tasks?org={org.name}",
        },
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "status": user.status,
        "links": {"self": f"/api/v2/users/{user.id}"},
    }


def authorization_json(auth: Authorization, store: Store) -> dict[str, Any]:
    return {
        "id": auth.id,
        "token": auth.token,
        "status": auth.status,
        "description": auth.description,
        "orgID": auth.org_id,
        "org": store.org(auth.org_id).name,
        "userID": auth.user_id,
        "user": store.user(auth.user_id).name,
        "permissions": [p.to_json(store.name_of) for p in auth.permissions],
        "links": {
            "self": f"/api/v2/authorizations/{auth.id}",
            "user": f"/api/v2/users/{auth.user_id}",
        },
        "createdAt": rfc3339(auth.created_ns),
        "updatedAt": rfc3339(auth.updated_ns),
    }
