"""settings.env holds only settings something reads: every key is named by the code, a
compose file, an image or a script (a setting nothing reads misleads whoever changes it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from streamlab.settings import parse_env_file

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = ("settings.env", "tests/e2e/artifacts/", "docs/", "README.md")


def _tracked_text() -> str:
    """Every file git tracks or would track, but settings.env itself and prose."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    texts = []
    for name in names:
        path = ROOT / name
        if name.startswith(SKIPPED) or name.endswith(".md") or not path.is_file():
            continue
        try:
            texts.append(path.read_text())
        except UnicodeDecodeError:
            continue  # binary data
    return "\n".join(texts)


def test_every_setting_is_read_somewhere() -> None:
    text = _tracked_text()
    unread = [
        key for key in parse_env_file(ROOT / "settings.env")
        if not re.search(rf"\b{re.escape(key)}\b", text)
    ]  # fmt: skip
    assert unread == [], f"settings.env keys nothing reads (remove them): {unread}"
