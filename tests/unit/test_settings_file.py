"""settings.env holds only settings something reads: every key is named by the code, a
compose file, an image or a script (a setting nothing reads misleads whoever changes it).
And each has its default there only: no code, entrypoint, Dockerfile or other env file gives
one a default of its own, which would silently disagree with settings.env one day."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from streamlab.settings import Settings, SettingsError, parse_env_file

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = ("settings.env", "tests/e2e/artifacts/", "docs/", "README.md")
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()
KEYS = frozenset(parse_env_file(ROOT / "settings.env"))
_NAME = r"([A-Z_][A-Z0-9_]*)"
# A default of its own, in any tracked file: the key is group 1.
OWN_DEFAULTS = {
    # s.int("KEY", 5), os.environ.get("KEY", "5"), getenv, setdefault, a helper's
    # setting("KEY", "5"): a call naming the key with more arguments (setenv sets a value).
    "a call with a default": re.compile(
        rf"""(?<![\w.])(?![\w.]*(?:setenv|putenv)\()[\w.]+\(\s*["']{_NAME}["']\s*,"""
    ),
    "Settings.optional, which is for wiring outside settings.env": re.compile(
        rf"""\.optional\(\s*["']{_NAME}["']"""
    ),
    # ${KEY:-x}, ${KEY-x}, ${KEY:=x}, ${KEY=x}; an empty default (${KEY:-}) is only "may be
    # unset", and ${OTHER:-${KEY}} is the setting itself.
    "a shell/compose default": re.compile(rf"\$\{{{_NAME}:?[-=](?!\}})"),
    # $(setting KEY 5): a shell function given the key and a default.
    "a shell helper with a default": re.compile(rf"\$\(\s*\w+\s+{_NAME}\s+[^)\s]"),
}
DOCKERFILE_ASSIGNMENT = re.compile(rf"(?:^|\s){_NAME}=")
ENV_FILE_LINE = re.compile(rf"^\s*{_NAME}\s*=", re.MULTILINE)
HOW_TO_FIX = (
    "a setting of settings.env has its default there only: read it with no default "
    "(Settings.str/int/float/bool/path(KEY); ${KEY:?not set: compose passes it from "
    "settings.env} in an entrypoint) and pass it to the container in "
    "compose/docker-compose.yml (see docs/decisions.md, 'Settings: one default each')"
)


def _tracked_files() -> list[tuple[str, str]]:
    """(name, text) of every file git tracks or would track, but settings.env and prose."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    files = []
    for name in names:
        path = ROOT / name
        if name.startswith(SKIPPED) or name.endswith(".md") or not path.is_file():
            continue
        try:
            files.append((name, path.read_text()))
        except UnicodeDecodeError:
            continue  # binary data
    return files


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _dockerfile_defaults(text: str) -> list[tuple[int, str]]:
    """(line, key) of each ARG KEY=... / ENV KEY=... (continuation lines included)."""
    found = []
    instruction = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split()
        if words and not raw[0].isspace():
            instruction = words[0].upper()
        if instruction in ("ARG", "ENV"):
            found += [(number, m.group(1)) for m in DOCKERFILE_ASSIGNMENT.finditer(raw)]
        if not raw.rstrip().endswith("\\"):
            instruction = ""
    return found


def own_defaults(name: str, text: str) -> list[str]:
    """'file:line: KEY: what' for each default this file gives a settings.env key."""
    found = [
        (_line(text, match.start()), match.group(1), what)
        for what, pattern in OWN_DEFAULTS.items()
        for match in pattern.finditer(text)
    ]
    if Path(name).name.endswith("Dockerfile"):
        found += [(n, key, "a Dockerfile ARG/ENV value") for n, key in _dockerfile_defaults(text)]
    if name.endswith(".env"):
        found += [
            (_line(text, m.start()), m.group(1), "a value in another env file")
            for m in ENV_FILE_LINE.finditer(text)
        ]
    return [f"{name}:{n}: {key}: {what}" for n, key, what in sorted(found) if key in KEYS]


def test_every_setting_is_read_somewhere() -> None:
    text = "\n".join(content for _, content in _tracked_files())
    unread = [key for key in KEYS if not re.search(rf"\b{re.escape(key)}\b", text)]
    assert unread == [], f"settings.env keys nothing reads (remove them): {sorted(unread)}"


def test_no_file_gives_a_setting_a_default_of_its_own() -> None:
    found = [
        line
        for name, text in _tracked_files()
        if name != THIS_FILE
        for line in own_defaults(name, text)
    ]
    assert found == [], "\n".join([*found, HOW_TO_FIX])


def test_the_scan_finds_each_kind_of_default() -> None:
    samples = {
        "a.py": 's.int("STREAMER_PORT", 8000)\nos.environ.get("INFLUX_ORG", "x")\n'
        's.optional("SPARK_MASTER")\ns.str("NOT_A_SETTING", "")\nsetting("SPARK_USER", "x")\n'
        'monkeypatch.setenv("SPARK_USER", "x")\ns.str("SPARK_USER")\n',
        "entrypoint": 'x="${KAFKA_HEAP_OPTS:--Xmx1g}" y="${SPARK_MASTER-local}"\n'
        ': "${HDFS_DATANODES:=1}" ok="${SPARK_MASTER:-}" fine="${STACK_X:-${SPARK_MASTER}}"\n'
        "host=$(setting STREAMER_HOST 127.0.0.1) port=$(value STREAMER_PORT)\n",
        "images/x/Dockerfile": "ARG SPARK_VERSION=4.0.0\nENV A=1 \\\n    SPARK_MASTER=yarn\n"
        "RUN SPARK_USER=x true\nARG HADOOP_VERSION\n",
        "compose/profiles/x.env": "SPARK_WORKER_CORES=1\nSTACK_SPARK_MASTER=yarn\n",
    }
    found = [line.split(": ")[0:2] for n, t in samples.items() for line in own_defaults(n, t)]
    assert found == [
        ["a.py:1", "STREAMER_PORT"],
        ["a.py:2", "INFLUX_ORG"],
        ["a.py:3", "SPARK_MASTER"],
        ["a.py:5", "SPARK_USER"],
        ["entrypoint:1", "KAFKA_HEAP_OPTS"],
        ["entrypoint:1", "SPARK_MASTER"],
        ["entrypoint:2", "HDFS_DATANODES"],
        ["entrypoint:3", "STREAMER_HOST"],
        ["images/x/Dockerfile:1", "SPARK_VERSION"],
        ["images/x/Dockerfile:3", "SPARK_MASTER"],
        ["compose/profiles/x.env:1", "SPARK_WORKER_CORES"],
    ]


def test_a_missing_setting_says_where_to_add_it(tmp_path: Path) -> None:
    file = tmp_path / "settings.env"
    file.write_text("SPARK_MASTER=yarn\nSPARKJOB_READY_FILE=\n")
    message = f"setting SPARK_USER is not set: add SPARK_USER=... to {file}"
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.load(file, environ={}).str("SPARK_USER")
    # In a container there is no settings.env: compose passes each setting.
    with pytest.raises(
        SettingsError, match=r"add SPARK_USER=\.\.\. to settings.env; in a container"
    ):
        Settings({}).int("SPARK_USER")
    settings = Settings.load(file, environ={})
    assert settings.optional("SPARKJOB_READY_FILE") is None
    assert settings.optional("NOT_SET") is None
    assert Settings({"SPARKJOB_READY_FILE": "/tmp/r"}).optional("SPARKJOB_READY_FILE") == "/tmp/r"
