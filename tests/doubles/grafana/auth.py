"""Who is calling? Basic auth as the admin user, or a service-account token.

Anonymous access is off (Grafana's default): a request without credentials gets
401 {"message": "Unauthorized"}. Wrong credentials get errutil's bodies: "Invalid username or
password" (password-auth.failed) and "Invalid API key" (api-key.invalid).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from .config import DoubleConfig
from .errors import ApiError, errutil

# The login a service-account token acts as, in createdBy/updatedBy.
SERVICE_ACCOUNT_LOGIN = "sa-streamlab-double"


def authenticate(config: DoubleConfig, headers: Mapping[str, str]) -> str:
    """The caller's login, or 401."""
    scheme, _, credentials = (headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "basic":
        return _basic(config, credentials.strip())
    if scheme.lower() == "bearer":
        return _bearer(config, credentials.strip())
    raise ApiError(401, "Unauthorized")


def _basic(config: DoubleConfig, credentials: str) -> str:
    login, password = _decode_basic(credentials)
    # Logins are case-insensitive in Grafana (users.case_insensitive_login, on by default).
    if login.lower() == config.admin_user.lower() and _same(password, config.admin_password):
        return config.admin_user
    raise errutil(401, "password-auth.failed", "Invalid username or password")


def _decode_basic(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errutil(401, "password-auth.failed", "Invalid username or password") from None
    login, _, password = decoded.partition(":")
    return login, password


def _bearer(config: DoubleConfig, token: str) -> str:
    if any(_same(token, known) for known in config.service_account_tokens):
        return SERVICE_ACCOUNT_LOGIN
    raise errutil(401, "api-key.invalid", "Invalid API key")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
