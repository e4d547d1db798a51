"""What every part of a dataset spec is read with: SpecError, the validators that raise it
with the file and the dotted key, and ${VAR} expansion from the settings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class SpecError(ValueError):
    """A dataset spec is invalid. The message names the file, the key and the fix."""

    def __init__(self, file: Path | str, key: str, expected: str) -> None:
        super().__init__(f"{file}: {key}: {expected}")
        self.file, self.key, self.expected = str(file), key, expected


def expand(text: str, env: Mapping[str, str], unset: Callable[[str], Exception]) -> str:
    """${VAR} and ${VAR:-default} in text from env; unset(VAR) is raised for a VAR that is
    neither there nor given a default."""

    def replace(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        if var in env:
            return env[var]
        if default is not None:
            return default
        raise unset(var)

    return ENV_REF.sub(replace, text)


class Reader:
    """Small validators that raise SpecError with the file and the dotted key."""

    def __init__(self, file: Path, env: Mapping[str, str]) -> None:
        self.file, self.env = file, env

    def fail(self, key: str, expected: str) -> SpecError:
        return SpecError(self.file, key, expected)

    def check(self, condition: bool, key: str, expected: str) -> None:
        if not condition:
            raise self.fail(key, f"expected {expected}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        return value

    def only_keys(self, value: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(allowed)}")

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not NAME_PATTERN.match(value):
            raise self.fail(key, f"expected a lower_snake_case name, got {value!r}")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return self.expand(value, key)

    def positive(self, value: Any, key: str) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if not ok or value != value or value == float("inf"):
            raise self.fail(key, f"expected a positive number, got {value!r}")
        return float(value)

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def count(self, value: Any, key: str) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        if not ok:
            raise self.fail(key, f"expected a whole number, 0 or more, got {value!r}")
        return value

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        """A list of lower_snake_case names (a single name is a list of one)."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise self.fail(key, f"expected a list of column names, got {value!r}")
        return tuple(self.name(item, f"{key}[{i}]") for i, item in enumerate(items))

    def optional_text(self, value: Any, key: str) -> str | None:
        return None if value is None else self.text(value, key)

    def jmespath(self, value: Any, key: str) -> str:
        """A JMESPath expression that compiles (the jmespath package: jmespath.org)."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a JMESPath expression, got {value!r}")
        try:
            jmespath.compile(value)
        except JMESPathError as error:
            message = str(error).splitlines()[0]
            raise self.fail(
                key, f"expected a JMESPath expression (jmespath.org), got {value!r}: {message}"
            ) from None
        return value

    def expand(self, value: str, key: str) -> str:
        """${VAR} and ${VAR:-default} from the settings, so a spec can name a setting."""

        def unset(var: str) -> SpecError:
            return self.fail(key, f"${{{var}}} is not set: add {var}=... to settings.env")

        return expand(value, self.env, unset)
