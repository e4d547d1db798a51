"""Least-privilege InfluxDB tokens kept in files: write-only and read-only on the two buckets.

A token file is kept as long as its token is an active authorization with exactly the
wanted permissions; otherwise a new token replaces it and the provisioner's earlier tokens
(recognised by their description) are deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from influxdb_client import (
    Authorization,
    AuthorizationsApi,
    Bucket,
    Organization,
    Permission,
    PermissionResource,
)
from influxdb_client.rest import ApiException

from .config import InfluxConfig
from .influx_buckets import api_message
from .report import CREATED, PRESENT, UPDATED, ProvisionError, Report
from .secret_files import has_secret_mode, read_secret_if_present, restrict, write_secret

SERVICE = "influxdb"
DESCRIPTION = "streamlab provisioner: {role} token"

PermissionKey = tuple[str, str, str | None, str | None]  # action, type, id, orgID


@dataclass(frozen=True)
class TokenRole:
    role: str  # "write" or "read"
    file: Path

    @property
    def description(self) -> str:
        return DESCRIPTION.format(role=self.role)

    @property
    def item(self) -> str:
        return f"{self.role} token ({self.file.name})"


def token_roles(config: InfluxConfig) -> tuple[TokenRole, TokenRole]:
    return TokenRole("write", config.write_token_file), TokenRole("read", config.read_token_file)


def ensure_tokens(
    api: AuthorizationsApi,
    org: Organization,
    buckets: Iterable[Bucket],
    config: InfluxConfig,
    report: Report,
) -> None:
    bucket_ids = [b.id for b in buckets]
    for role in token_roles(config):
        ensure_token(api, org, bucket_ids, role, report)


def ensure_token(
    api: AuthorizationsApi,
    org: Organization,
    bucket_ids: list[str],
    role: TokenRole,
    report: Report,
) -> None:
    wanted = [_permission(role.role, bucket_id, org.id) for bucket_id in bucket_ids]
    existing = _authorizations(api, org, role)
    token = read_secret_if_present(role.file)
    current = next((a for a in existing if token and a.token == token), None)
    problem = _problem(current, token, {key(p) for p in wanted})
    if problem is None:
        _keep(role, report)
        return
    created = _create(api, org, wanted, role)
    _store(role, created.token)
    stale = [a for a in existing if a.description == role.description and a.id != created.id]
    for auth in stale:
        _delete(api, auth, role)
    deleted = f"; {len(stale)} earlier token(s) deleted" if stale else ""
    outcome = CREATED if token is None else UPDATED
    report.item(SERVICE, role.item, outcome, f"{problem}: new token written, mode 0600{deleted}")


def key(permission: Permission) -> PermissionKey:
    resource = permission.resource
    return permission.action, resource.type, resource.id, resource.org_id


def _permission(role: str, bucket_id: str, org_id: str) -> Permission:
    resource = PermissionResource(type="buckets", id=bucket_id, org_id=org_id)
    return Permission(action=role, resource=resource)


def _problem(
    current: Authorization | None, token: str | None, wanted: set[PermissionKey]
) -> str | None:
    """Why the token in the file cannot be kept, or None if it can."""
    if token is None:
        return "no token file yet"
    if current is None:
        return "the token in the file is unknown to InfluxDB"
    if current.status != "active":
        return "the token in the file is inactive"
    if {key(p) for p in current.permissions or []} != wanted:
        return "the token in the file has other permissions than wanted"
    return None


def _keep(role: TokenRole, report: Report) -> None:
    if has_secret_mode(role.file):
        report.item(SERVICE, role.item, PRESENT, f"{role.role} on both buckets only")
        return
    restrict(role.file)
    report.item(SERVICE, role.item, UPDATED, "file mode set to 0600")


def _authorizations(
    api: AuthorizationsApi, org: Organization, role: TokenRole
) -> list[Authorization]:
    try:
        return api.find_authorizations(org_id=org.id) or []
    except ApiException as error:
        raise _error(role, f"cannot list tokens: {error.status} {api_message(error)}") from None


def _create(
    api: AuthorizationsApi, org: Organization, permissions: list[Permission], role: TokenRole
) -> Authorization:
    request = Authorization(org_id=org.id, permissions=permissions, description=role.description)
    try:
        return api.create_authorization(authorization=request)
    except ApiException as error:
        raise _error(role, f"cannot create it: {error.status} {api_message(error)}") from None


def _store(role: TokenRole, token: str) -> None:
    try:
        write_secret(role.file, token)
    except OSError as error:
        raise ProvisionError(
            SERVICE, role.item, f"cannot write {role.file} ({error.strerror})",
            f"make {role.file.parent} writable for the provisioner and re-run it",
        ) from None  # fmt: skip


def _delete(api: AuthorizationsApi, auth: Authorization, role: TokenRole) -> None:
    try:
        api.delete_authorization(auth)
    except ApiException as error:
        if error.status != 404:  # already gone is what we wanted
            raise _error(
                role, f"cannot delete the stale token {auth.id}: {api_message(error)}"
            ) from None


def _error(role: TokenRole, problem: str) -> ProvisionError:
    fix = "check that INFLUX_ADMIN_TOKEN_FILE holds the admin (operator) token"
    return ProvisionError(SERVICE, role.item, problem, fix)
