"""Configuration of the double, read like the official grafana image reads its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The tag of the image the double stands in for; settings.env holds it.
VERSION_VAR = "GRAFANA_IMAGE_TAG"
ADMIN_USER_VAR = "GF_SECURITY_ADMIN_USER"
ADMIN_PASSWORD_VAR = "GF_SECURITY_ADMIN_PASSWORD"
# Grafana's defaults for [security] admin_user and admin_password.
DEFAULT_ADMIN_USER = "admin"
DEFAULT_ADMIN_PASSWORD = "admin"
FILE_SUFFIX = "__FILE"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


def settings_version() -> str:
    """GRAFANA_IMAGE_TAG from settings.env, for a double started in a test's process."""
    # Imported here: the double's image has no streamlab, and there the environment has it.
    from streamlab.settings import Settings

    return Settings.load().str(VERSION_VAR)


@dataclass(frozen=True)
class DoubleConfig:
    version: str = field(default_factory=settings_version)
    admin_user: str = DEFAULT_ADMIN_USER
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    # Service-account tokens accepted as `Authorization: Bearer <token>` (tests only: the
    # double has no service-account API to create them).
    service_account_tokens: frozenset[str] = frozenset()

    @property
    def reported_version(self) -> str:
        """The version /api/health reports: the image tag, marked as the double's."""
        return f"{self.version}-double"


def config_from_env(environ: Mapping[str, str]) -> DoubleConfig:
    version = environ.get(VERSION_VAR)
    if not version:
        raise ConfigError(f"{VERSION_VAR} is not set: compose passes it from settings.env")
    return DoubleConfig(
        version=version,
        admin_user=gf_setting(environ, ADMIN_USER_VAR) or DEFAULT_ADMIN_USER,
        admin_password=gf_setting(environ, ADMIN_PASSWORD_VAR) or DEFAULT_ADMIN_PASSWORD,
    )


def gf_setting(environ: Mapping[str, str], name: str) -> str | None:
    """A GF_* setting, or the content of the file that NAME__FILE names.

    The image's run.sh exports NAME="$(< file)": command substitution drops trailing
    newlines, and setting both NAME and NAME__FILE is an error.
    """
    path = environ.get(name + FILE_SUFFIX)
    if not path:
        return environ.get(name)
    if environ.get(name):
        raise ConfigError(f"both {name} and {name}{FILE_SUFFIX} are set (but are exclusive)")
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\n")
    except OSError as error:
        raise ConfigError(f"{name}{FILE_SUFFIX}={path}: {error.strerror}") from None
