"""The settings loader: settings.env overlaid by the environment, read in one place.

Every Python component gets its configuration from here and receives it as an argument;
nothing else reads settings.env or os.environ for tunables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SETTINGS_FILE_VAR = "STREAMLAB_SETTINGS"
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and the fix."""


def find_settings_file(start: Path | None = None) -> Path | None:
    """settings.env named by $STREAMLAB_SETTINGS, else the nearest one above start or cwd."""
    named = os.environ.get(SETTINGS_FILE_VAR)
    if named:
        return Path(named)
    for base in (start or Path.cwd(), Path(__file__).resolve()):
        for folder in (base, *base.parents):
            candidate = folder / "settings.env"
            if candidate.is_file():
                return candidate
    return None


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; optional matching quotes."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def load_env(path: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """settings.env (if found) overlaid by the process environment."""
    file = path or find_settings_file()
    values = parse_env_file(file) if file and file.is_file() else {}
    values.update(os.environ if environ is None else environ)
    return values


@dataclass(frozen=True)
class Settings:
    """Typed access to the merged settings, with errors that name the variable."""

    values: Mapping[str, str]
    source: Path | None = None

    @classmethod
    def load(cls, path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        file = path or find_settings_file()
        return cls(load_env(file, environ), file)

    def str(self, key: str) -> str:
        value = self.values.get(key)
        if value is None:
            raise SettingsError(f"setting {key} is not set: {self._where_to_set(key)}")
        return value

    def int(self, key: str) -> int:
        return self._convert(key, int)

    def float(self, key: str) -> float:
        return self._convert(key, float)

    def bool(self, key: str) -> bool:
        text = self.str(key).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"setting {key}={text!r} is not a boolean: use true or false")

    def path(self, key: str) -> Path:
        """A path setting; relative paths are taken from the settings file's folder."""
        value = Path(self.str(key))
        if not value.is_absolute() and self.source is not None:
            value = self.source.parent / value
        return value

    def optional(self, key: str) -> str | None:
        """Container wiring that is not in settings.env (unset or empty: off), never a
        setting of settings.env: those are read with str(), int() ... and have no default."""
        return self.values.get(key) or None

    def _where_to_set(self, key: str) -> str:
        if self.source is not None:
            return f"add {key}=... to {self.source}"
        return (
            f"add {key}=... to settings.env; in a container, add it to the service's "
            "environment in compose/docker-compose.yml"
        )

    def _convert(self, key, kind):
        text = self.str(key)
        try:
            return kind(text)
        except ValueError:
            name = kind.__name__
            raise SettingsError(f"setting {key}={text!r} is not a valid {name}") from None
