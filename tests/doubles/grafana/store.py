"""The double's whole state, in memory, behind one lock.

The store checks what Grafana's storage layer checks (existence, unique names and uids,
dashboard versions); the API modules validate request bodies and render responses.
Dashboards and folders share one id sequence, as they share Grafana's dashboard table.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Container
from dataclasses import dataclass, replace
from typing import Any

from . import errors
from .errors import with_status
from .ids import new_uid, timestamp
from .model import Dashboard, DataSource, Folder

Clock = Callable[[], float]

DATASOURCE_NOT_FOUND = "Data source not found"
NAME_EXISTS = "data source with the same name already exists"
UID_EXISTS = "data source with the same uid already exists"
FOLDER_NOT_FOUND = "folder not found"


@dataclass(frozen=True)
class SaveDashboard:
    """POST /api/dashboards/db, read as NewDashboardFromJson reads it."""

    data: dict[str, Any]
    id: int
    uid: str
    title: str
    version: int
    folder_uid: str
    overwrite: bool
    message: str
    login: str


class Store:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._datasources: dict[int, DataSource] = {}
            self._folders: dict[str, Folder] = {}
            self._dashboards: dict[str, Dashboard] = {}
            self._last_datasource_id = 0
            self._last_dashboard_id = 0

    def now(self) -> str:
        return timestamp(self._clock())

    # --- data sources --------------------------------------------------------------------

    def datasources(self) -> list[DataSource]:
        with self._lock:
            return sorted(self._datasources.values(), key=lambda ds: ds.name.lower())

    def datasource(self, key: str, value: str | int) -> DataSource:
        """The data source whose `key` ("uid", "name" or "id") is value, or 404."""
        with self._lock:
            found = [ds for ds in self._datasources.values() if getattr(ds, key) == value]
        if not found:
            raise errors.not_found(DATASOURCE_NOT_FOUND)
        return found[0]

    def add_datasource(self, ds: DataSource) -> DataSource:
        """Stores ds with a new id (and uid, if it has none); the first one is the default."""
        with self._lock:
            if not ds.name:
                ds = replace(ds, name=self._available_name(ds.type))
            if any(other.name == ds.name for other in self._datasources.values()):
                raise errors.conflict(NAME_EXISTS)
            if ds.uid and any(other.uid == ds.uid for other in self._datasources.values()):
                raise errors.conflict(UID_EXISTS)
            self._last_datasource_id += 1
            uid = ds.uid or _free_uid({other.uid for other in self._datasources.values()})
            ds = replace(ds, id=self._last_datasource_id, uid=uid)
            ds.is_default = ds.is_default or not self._datasources
            self._datasources[ds.id] = ds
            self._keep_one_default(ds)
            return ds

    def update_datasource(self, current: DataSource, new: DataSource, version: int) -> DataSource:
        """Replaces current by new, as UpdateDataSource does (version 0 skips the check)."""
        with self._lock:
            current = self.datasource("id", current.id)
            if new.name != current.name and any(
                other.name == new.name for other in self._datasources.values()
            ):
                raise errors.conflict(f"Failed to update datasource: {NAME_EXISTS}")
            if new.uid != current.uid and any(
                other.uid == new.uid for other in self._datasources.values()
            ):
                raise errors.conflict(f"Failed to update datasource: {UID_EXISTS}")
            if version and version < current.version:
                raise errors.conflict(
                    "Datasource has already been updated by someone else. "
                    "Please reload and try again"
                )
            # Secrets not sent again are kept; sending "" clears one.
            secrets = {**current.secure_json_data, **new.secure_json_data}
            ds = replace(new, id=current.id, secure_json_data=secrets, version=version + 1)
            self._datasources[ds.id] = ds
            self._keep_one_default(ds)
            return ds

    def delete_datasource(self, ds: DataSource) -> None:
        with self._lock:
            self._datasources.pop(ds.id, None)

    def _available_name(self, ds_type: str) -> str:
        """The name Grafana gives an unnamed data source: its type, then type-1, type-2, ..."""
        taken = {ds.name.lower() for ds in self._datasources.values()}
        names = (f"{ds_type}-{n}" if n else ds_type for n in itertools.count())
        return next(name for name in names if name.lower() not in taken)

    def _keep_one_default(self, ds: DataSource) -> None:
        if ds.is_default:
            for other in self._datasources.values():
                other.is_default = other.id == ds.id

    # --- folders -------------------------------------------------------------------------

    def folders(self) -> list[Folder]:
        with self._lock:
            return sorted(self._folders.values(), key=lambda f: (f.title.lower(), f.uid))

    def find_folder(self, uid: str) -> Folder | None:
        with self._lock:
            return self._folders.get(uid)

    def folder(self, uid: str) -> Folder:
        found = self.find_folder(uid)
        if found is None:
            raise with_status(404, "not-found", FOLDER_NOT_FOUND)
        return found

    def folder_by_id(self, folder_id: int) -> Folder | None:
        with self._lock:
            return next((f for f in self._folders.values() if f.id == folder_id), None)

    def add_folder(self, uid: str, title: str, parent_uid: str, login: str) -> Folder:
        with self._lock:
            if uid in self._folders:
                raise errors.conflict("a folder/dashboard with the same uid already exists")
            if parent_uid:
                self.folder(parent_uid)
            now = self.now()
            uid = uid or _free_uid(self._folders)
            folder = Folder(
                id=self._new_dashboard_id(),
                uid=uid,
                title=title,
                parent_uid=parent_uid,
                created=now,
                updated=now,
                created_by=login,
                updated_by=login,
            )
            self._folders[uid] = folder
            return folder

    def update_folder(
        self, uid: str, title: str | None, version: int, overwrite: bool, login: str
    ) -> Folder:
        with self._lock:
            folder = self.folder(uid)
            if not overwrite and version != folder.version:
                raise with_status(
                    412, "version-mismatch", "the folder has been changed by someone else"
                )
            folder = replace(
                folder,
                title=folder.title if title is None else title,
                version=folder.version + 1,
                updated=self.now(),
                updated_by=login,
            )
            self._folders[uid] = folder
            return folder

    def delete_folder(self, uid: str) -> Folder:
        """Deletes the folder with its subfolders and every dashboard in them."""
        with self._lock:
            folder = self.folder(uid)
            for child in [f for f in self._folders.values() if f.parent_uid == uid]:
                self.delete_folder(child.uid)
            for dash in [d for d in self._dashboards.values() if d.folder_uid == uid]:
                del self._dashboards[dash.uid]
            del self._folders[uid]
            return folder

    # --- dashboards ----------------------------------------------------------------------

    def dashboards(self) -> list[Dashboard]:
        with self._lock:
            return sorted(self._dashboards.values(), key=lambda d: (d.title.lower(), d.uid))

    def find_dashboard(self, uid: str) -> Dashboard | None:
        with self._lock:
            return self._dashboards.get(uid)

    def dashboard(self, uid: str) -> Dashboard:
        found = self.find_dashboard(uid)
        if found is None:
            raise errors.not_found("Dashboard not found")
        return found

    def save_dashboard(self, cmd: SaveDashboard) -> Dashboard:
        with self._lock:
            existing, uid = self._existing_for_update(cmd)
            if existing is None:
                return self._create_dashboard(cmd, uid)
            return self._replace_dashboard(existing, cmd, uid)

    def delete_dashboard(self, uid: str) -> Dashboard:
        with self._lock:
            dash = self.dashboard(uid)
            del self._dashboards[uid]
            return dash

    def _existing_for_update(self, cmd: SaveDashboard) -> tuple[Dashboard | None, str]:
        """The dashboard cmd overwrites (if any) and the uid to save under, or 404/400/412
        (getExistingDashboardByIDOrUIDForUpdate; titles need not be unique since 11.3)."""
        uid, by_id = cmd.uid, None
        if cmd.id > 0:
            by_id = next((d for d in self._dashboards.values() if d.id == cmd.id), None)
            if by_id is None:
                raise with_status(404, "not-found", "Dashboard not found")
            uid = uid or by_id.uid
        by_uid = self._dashboards.get(uid) if uid else None
        if by_id is not None and by_uid is not None and by_id.id != by_uid.id:
            raise errors.bad_request("A dashboard with the same uid already exists")
        existing = by_id or by_uid
        if existing is not None and cmd.version != existing.version and not cmd.overwrite:
            raise with_status(
                412, "version-mismatch", "The dashboard has been changed by someone else"
            )
        return existing, uid

    def _create_dashboard(self, cmd: SaveDashboard, uid: str) -> Dashboard:
        now = self.now()
        dash = Dashboard(
            id=self._new_dashboard_id(),
            uid=uid or _free_uid(self._dashboards),
            title=cmd.title,
            folder_uid=cmd.folder_uid,
            data={},
            version=1,
            created=now,
            updated=now,
            created_by=cmd.login,
            updated_by=cmd.login,
            message=cmd.message,
        )
        return self._put(dash, cmd.data)

    def _replace_dashboard(self, existing: Dashboard, cmd: SaveDashboard, uid: str) -> Dashboard:
        del self._dashboards[existing.uid]
        dash = replace(
            existing,
            uid=uid,
            title=cmd.title,
            folder_uid=cmd.folder_uid,
            version=existing.version + 1,
            updated=self.now(),
            updated_by=cmd.login,
            message=cmd.message,
        )
        return self._put(dash, cmd.data)

    def _put(self, dash: Dashboard, data: dict[str, Any]) -> Dashboard:
        fields = {"id": dash.id, "uid": dash.uid, "title": dash.title, "version": dash.version}
        dash.data = {**copy.deepcopy(data), **fields}
        self._dashboards[dash.uid] = dash
        return dash

    def _new_dashboard_id(self) -> int:
        self._last_dashboard_id += 1
        return self._last_dashboard_id


def _free_uid(taken: Container[str]) -> str:
    return next(uid for uid in iter(new_uid, None) if uid not in taken)
