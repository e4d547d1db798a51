"""Secrets in files: read with a clear error, written atomically with mode 0600."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

SECRET_MODE = 0o600
SECRETS_DIR_MODE = 0o700


class SecretFileError(RuntimeError):
    """A secret file is missing, unreadable or empty; the message names the file."""


def read_secret(path: Path) -> str:
    try:
        value = path.read_text().strip()
    except OSError as error:
        raise SecretFileError(f"cannot read {path} ({error.strerror})") from None
    if not value:
        raise SecretFileError(f"{path} is empty")
    return value


def read_secret_if_present(path: Path) -> str | None:
    try:
        return read_secret(path)
    except SecretFileError:
        return None


def write_secret(path: Path, value: str) -> None:
    """Replace path with value in one rename, so a reader never sees half a token."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=SECRETS_DIR_MODE)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:  # mkstemp creates the file with mode 0600
            out.write(value + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def has_secret_mode(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == SECRET_MODE


def restrict(path: Path) -> None:
    os.chmod(path, SECRET_MODE)
