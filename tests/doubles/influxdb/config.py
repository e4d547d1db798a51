"""Configuration of the double, including the official image's DOCKER_INFLUXDB_INIT_* setup."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The image the double stands in for (settings.env INFLUXDB_IMAGE_TAG overrides it).
DEFAULT_VERSION = "2.7.12"
VERSION_VAR = "INFLUXDB_IMAGE_TAG"
INIT_PREFIX = "DOCKER_INFLUXDB_INIT_"
MIN_PASSWORD_LENGTH = 8
MIN_RETENTION_S = 3_600

_DURATION_PART = re.compile(r"(\d+)(ns|us|µs|ms|s|m|h|d|w)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3_600 * 1_000_000_000,
    "d": 86_400 * 1_000_000_000,
    "w": 7 * 86_400 * 1_000_000_000,
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class InitSetup:
    """What `influx setup` gets from the image's entrypoint in DOCKER_INFLUXDB_INIT_MODE=setup."""

    username: str
    password: str
    org: str
    bucket: str
    retention_seconds: int = 0
    token: str | None = None


@dataclass(frozen=True)
class DoubleConfig:
    version: str = DEFAULT_VERSION
    # Largest accepted write body after decompression (bytes); None means no limit.
    max_body_bytes: int | None = None
    init: InitSetup | None = None


def config_from_env(environ: Mapping[str, str]) -> DoubleConfig:
    return DoubleConfig(
        version=environ.get(VERSION_VAR) or DEFAULT_VERSION,
        init=init_setup_from_env(environ),
    )


def init_setup_from_env(environ: Mapping[str, str]) -> InitSetup | None:
    mode = environ.get(f"{INIT_PREFIX}MODE", "")
    if not mode:
        return None
    if mode != "setup":
        raise ConfigError(f"{INIT_PREFIX}MODE={mode} is not supported by the double: use setup")
    environ = _with_secret_files(environ)
    values = {name: _required(environ, name) for name in ("USERNAME", "PASSWORD", "ORG", "BUCKET")}
    if len(values["PASSWORD"]) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"{INIT_PREFIX}PASSWORD must be at least 8 characters long")
    retention = parse_duration_seconds(environ.get(f"{INIT_PREFIX}RETENTION", ""))
    if 0 < retention < MIN_RETENTION_S:
        raise ConfigError(f"{INIT_PREFIX}RETENTION must be 0 (infinite) or at least 1h")
    return InitSetup(
        username=values["USERNAME"],
        password=values["PASSWORD"],
        org=values["ORG"],
        bucket=values["BUCKET"],
        retention_seconds=retention,
        token=environ.get(f"{INIT_PREFIX}ADMIN_TOKEN") or None,
    )


def _with_secret_files(environ: Mapping[str, str]) -> dict[str, str]:
    """The image reads USERNAME, PASSWORD and ADMIN_TOKEN from *_FILE (Compose secrets) too."""
    values = dict(environ)
    for name in ("USERNAME", "PASSWORD", "ADMIN_TOKEN"):
        path = environ.get(f"{INIT_PREFIX}{name}_FILE")
        if not path:
            continue
        if environ.get(f"{INIT_PREFIX}{name}"):
            raise ConfigError(f"set {INIT_PREFIX}{name} or {INIT_PREFIX}{name}_FILE, not both")
        try:
            values[f"{INIT_PREFIX}{name}"] = Path(path).read_text().strip()
        except OSError as error:
            raise ConfigError(f"{INIT_PREFIX}{name}_FILE={path}: {error.strerror}") from error
    return values


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(f"{INIT_PREFIX}{name}", "")
    if not value:
        raise ConfigError(f"{INIT_PREFIX}{name} is required when {INIT_PREFIX}MODE=setup")
    return value


def parse_duration_seconds(text: str) -> int:
    """A retention like the influx CLI takes: 1w, 30d, 72h30m; empty or 0 is infinite."""
    text = text.strip()
    if text in ("", "0"):
        return 0
    parts = _DURATION_PART.findall(text)
    if "".join(number + unit for number, unit in parts) != text:
        raise ConfigError(
            f"{INIT_PREFIX}RETENTION={text!r} is not a duration such as 1w, 30d or 72h"
        )
    return sum(int(number) * _UNIT_NS[unit] for number, unit in parts) // 1_000_000_000
