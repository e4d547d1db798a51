"""Resources rendered in the JSON shapes of Grafana 12's legacy /api responses (pkg/api/dtos).

The double has no plugin registry, so every data source renders as Grafana renders one whose
plugin is not installed: typeName is the type, typeLogoUrl the generic icon.
"""

from __future__ import annotations

from typing import Any

from .ids import slugify
from .model import ORG_ID, Dashboard, DataSource, Folder

GENERIC_DATASOURCE_LOGO = "public/img/icn-datasource.svg"
# Grafana's name for the root level in dashboard meta.
ROOT_FOLDER_TITLE = "General"
_ZERO_TIME = "0001-01-01T00:00:00Z"


def datasource_json(ds: DataSource) -> dict[str, Any]:
    """dtos.DataSource: secureJsonData never leaves the server, only secureJsonFields."""
    return {
        "id": ds.id,
        "uid": ds.uid,
        "orgId": ORG_ID,
        "name": ds.name,
        "type": ds.type,
        "typeLogoUrl": GENERIC_DATASOURCE_LOGO,
        "access": ds.access,
        "url": ds.url,
        "user": ds.user,
        "database": ds.database,
        "basicAuth": ds.basic_auth,
        "basicAuthUser": ds.basic_auth_user,
        "withCredentials": ds.with_credentials,
        "isDefault": ds.is_default,
        "jsonData": ds.json_data,
        "secureJsonFields": ds.secure_json_fields,
        "version": ds.version,
        "readOnly": False,
        "apiVersion": "",
    }


def datasource_list_item(ds: DataSource) -> dict[str, Any]:
    """dtos.DataSourceListItemDTO (GET /api/datasources)."""
    return {
        "id": ds.id,
        "uid": ds.uid,
        "orgId": ORG_ID,
        "name": ds.name,
        "type": ds.type,
        "typeName": ds.type,
        "typeLogoUrl": GENERIC_DATASOURCE_LOGO,
        "access": ds.access,
        "url": ds.url,
        "user": ds.user,
        "database": ds.database,
        "basicAuth": ds.basic_auth,
        "isDefault": ds.is_default,
        "jsonData": ds.json_data,
        "readOnly": False,
    }


def folder_url(folder: Folder) -> str:
    return f"/dashboards/f/{folder.uid}/{slugify(folder.title)}"


def dashboard_url(dash: Dashboard) -> str:
    return f"/d/{dash.uid}/{slugify(dash.title)}"


def folder_json(folder: Folder) -> dict[str, Any]:
    """dtos.Folder (GET/POST/PUT /api/folders...)."""
    body: dict[str, Any] = {
        "id": folder.id,
        "uid": folder.uid,
        "orgId": ORG_ID,
        "title": folder.title,
        "url": folder_url(folder),
        "hasAcl": False,
        "canSave": True,
        "canEdit": True,
        "canAdmin": True,
        "canDelete": True,
        "createdBy": folder.created_by,
        "created": folder.created,
        "updatedBy": folder.updated_by,
        "updated": folder.updated,
        "version": folder.version,
    }
    if folder.parent_uid:
        body["parentUid"] = folder.parent_uid
    return body


def folder_list_item(folder: Folder) -> dict[str, Any]:
    """dtos.FolderSearchHit (GET /api/folders)."""
    body: dict[str, Any] = {"id": folder.id, "uid": folder.uid, "title": folder.title}
    if folder.parent_uid:
        body["parentUid"] = folder.parent_uid
    return body


def dashboard_meta(dash: Dashboard, folder: Folder | None) -> dict[str, Any]:
    """dtos.DashboardMeta (GET /api/dashboards/uid/{uid})."""
    return {
        "type": "db",
        "canSave": True,
        "canEdit": True,
        "canAdmin": True,
        "canStar": True,
        "canDelete": True,
        "slug": slugify(dash.title),
        "url": dashboard_url(dash),
        "expires": _ZERO_TIME,
        "created": dash.created,
        "updated": dash.updated,
        "updatedBy": dash.updated_by,
        "createdBy": dash.created_by,
        "version": dash.version,
        "hasAcl": False,
        "isFolder": False,
        "folderId": folder.id if folder else 0,
        "folderUid": folder.uid if folder else "",
        "folderTitle": folder.title if folder else ROOT_FOLDER_TITLE,
        "folderUrl": folder_url(folder) if folder else "",
        "provisioned": False,
        "provisionedExternalId": "",
    }


def search_hit(item: Dashboard | Folder, parent: Folder | None) -> dict[str, Any]:
    """model.Hit (GET /api/search); folder properties only for items inside a folder."""
    is_folder = isinstance(item, Folder)
    slug = slugify(item.title)
    hit: dict[str, Any] = {
        "id": item.id,
        "uid": item.uid,
        "orgId": ORG_ID,
        "title": item.title,
        "uri": f"db/{slug}",
        "url": folder_url(item) if is_folder else dashboard_url(item),
        "slug": "",
        "type": "dash-folder" if is_folder else "dash-db",
        "tags": [] if is_folder else item.tags,
        "isStarred": False,
        "sortMeta": 0,
        "isDeleted": False,
    }
    if parent is not None:
        hit.update(
            folderId=parent.id,
            folderUid=parent.uid,
            folderTitle=parent.title,
            folderUrl=folder_url(parent),
        )
    return hit
