"""Identifiers as Grafana makes them: short UIDs, slugs, timestamps."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import UTC, datetime

# util.IsValidShortUID and util.MaxUIDLength.
_SHORT_UID = re.compile(r"^[a-zA-Z0-9\-_]*$")
MAX_UID_LENGTH = 40
_UID_FIRST = string.ascii_lowercase
_UID_REST = string.ascii_lowercase + string.digits

# pkg/infra/slugify: kept, replaced and omitted characters (ASCII part of its tables; other
# non-ASCII characters are hex-encoded here, where Grafana transliterates some of them).
_SLUG_KEEP = frozenset(string.ascii_lowercase + string.digits + "_-")
_SLUG_REPLACE = {" ": "-", "&": "and", "@": "at"}
_SLUG_OMIT = frozenset(",\"'\n\r\x00?.()")
_MAX_SLUG_LENGTH = 50


def new_uid() -> str:
    """A 14-character short UID starting with a letter, like util.GenerateShortUID's."""
    return secrets.choice(_UID_FIRST) + "".join(secrets.choice(_UID_REST) for _ in range(13))


def uid_problem(uid: str) -> str | None:
    """Why Grafana refuses a dashboard or folder uid, or None."""
    if not _SHORT_UID.match(uid):
        return "uid contains illegal characters"
    if len(uid) > MAX_UID_LENGTH:
        return "uid too long, max 40 characters"
    return None


def slugify(title: str) -> str:
    slug = "".join(_slug_part(c) for c in title.strip().lower())
    if slug == "" or len(slug) > _MAX_SLUG_LENGTH:
        return str(uuid.uuid5(uuid.NAMESPACE_OID, title))
    return slug


def _slug_part(c: str) -> str:
    if c in _SLUG_REPLACE:
        return _SLUG_REPLACE[c]
    if c in _SLUG_KEEP:
        return c
    if c in _SLUG_OMIT:
        return ""
    return c.encode("utf-8").hex()


def timestamp(seconds: float) -> str:
    """RFC 3339 in UTC, as Grafana's JSON renders time.Time."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
