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

    def str(self, key: str, default: str | None = None) -> str:
        value = self.values.get(key, default)
        if value is None:
            where = self.source or "settings.env"
            raise SettingsError(f"setting {key} is not set: add {key}=... to {where}")
        return value

    def int(self, key: str, default: int | None = None) -> int:
        return self._convert(key, int, default)

    def float(self, key: str, default: float | None = None) -> float:
        return self._convert(key, float, default)

    def bool(self, key: str, default: bool | None = None) -> bool:
        raw = self.values.get(key)
        if raw is None and default is not None:
            return default
        text = self.str(key).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"setting {key}={raw!r} is not a boolean: use true or false")

    def path(self, key: str, default: str | None = None) -> Path:
        """A path setting; relative paths are taken from the settings file's folder."""
        value = Path(self.str(key, default))
        if not value.is_absolute() and self.source is not None:
            value = self.source.parent / value
        return value

    def _convert(self, key, kind, default):
        raw = self.values.get(key)
        if raw is None and default is not None:
            return default
        text = self.str(key)
        try:
            return kind(text)
        except ValueError:
            name = kind.__name__
            raise SettingsError(f"setting {key}={text!r} is not a valid {name}") from None
