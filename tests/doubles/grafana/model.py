"""The resources the double stores: data sources, folders and dashboards (one org, id 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORG_ID = 1
ACCESS_MODES = ("proxy", "direct")


@dataclass
class DataSource:
    id: int
    uid: str
    name: str
    type: str
    access: str
    url: str = ""
    user: str = ""
    database: str = ""
    basic_auth: bool = False
    basic_auth_user: str = ""
    with_credentials: bool = False
    is_default: bool = False
    json_data: dict[str, Any] = field(default_factory=dict)
    # Write-only through the API: responses list the keys with a value in secureJsonFields.
    secure_json_data: dict[str, str] = field(default_factory=dict)
    version: int = 1

    @property
    def secure_json_fields(self) -> dict[str, bool]:
        return {key: True for key, value in self.secure_json_data.items() if value}


@dataclass
class Folder:
    id: int
    uid: str
    title: str
    parent_uid: str
    created: str
    updated: str
    created_by: str
    updated_by: str
    version: int = 1


@dataclass
class Dashboard:
    id: int
    uid: str
    title: str
    # "" is the root level (Grafana's "General").
    folder_uid: str
    # The dashboard JSON model as stored, with id, uid, title and version set.
    data: dict[str, Any]
    version: int
    created: str
    updated: str
    created_by: str
    updated_by: str
    message: str = ""

    @property
    def tags(self) -> list[str]:
        tags = self.data.get("tags")
        return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
