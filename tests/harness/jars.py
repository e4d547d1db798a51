"""Resolve an image's jars from Maven Central with the image's own pom.xml.

The images' pom.xml files are the one list of jars and settings.env the one list of versions,
so the tests run exactly the jars the images ship. The jars land in a cache outside the repo,
keyed by the pom's content and the versions, so a changed pom or version fetches afresh.

CLI (tests/run.sh pre-fetches with it): python tests/harness/jars.py kafka [hadoop spark ...]
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services"))

from streamlab.settings import Settings, parse_env_file

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPLETE_MARKER = ".complete"
_VERSION_SUFFIX = "_VERSION"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class JarsError(RuntimeError):
    """The jars of an image could not be resolved; the message names the pom and the fix."""


def pom_path(image: str) -> Path:
    return REPO_ROOT / "images" / image / "pom.xml"


def maven_properties(settings: Settings) -> dict[str, str]:
    """Every *_VERSION of settings.env as a Maven property (KAFKA_VERSION -> kafka.version)."""
    return {_property_name(key): settings.str(key) for key in _version_keys(settings)}


def cache_root(settings: Settings) -> Path:
    named = settings.optional("STREAMLAB_CACHE")
    return Path(named).expanduser() if named else Path.home() / ".cache" / "streamlab"


def jar_dir(image: str, settings: Settings) -> Path:
    """The cache folder for this pom content and these versions."""
    digest = hashlib.sha256(pom_path(image).read_bytes())
    for name, value in sorted(maven_properties(settings).items()):
        digest.update(f"\n{name}={value}".encode())
    return cache_root(settings) / "jars" / f"{image}-{digest.hexdigest()[:12]}"


def resolve_jars(image: str, settings: Settings | None = None) -> Path:
    """The folder holding every jar of images/<image>/pom.xml, fetched on first use."""
    settings = settings or Settings.load()
    pom = pom_path(image)
    if not pom.is_file():
        raise JarsError(f"no pom for image {image!r}: {pom} does not exist")
    target = jar_dir(image, settings)
    if (target / COMPLETE_MARKER).is_file():
        return target
    print(f"fetching {image} jars from Maven Central (first run only)…", file=sys.stderr)
    _fetch(pom, maven_properties(settings), target)
    return target


def _fetch(pom: Path, properties: dict[str, str], target: Path) -> None:
    # Fetch into a private folder and rename it into place, so a crash or a concurrent run
    # never leaves a half-filled folder that looks complete.
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _run_maven(pom, properties, staging)
        (staging / COMPLETE_MARKER).write_text(_describe(pom, properties))
        try:
            staging.rename(target)
        except OSError:
            if not (target / COMPLETE_MARKER).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_maven(pom: Path, properties: dict[str, str], output: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarsError(f"mvn is not installed, needed to resolve {pom}: run ./tests/run.sh")
    command = [
        mvn,
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={output}",
        *(f"-D{name}={value}" for name, value in sorted(properties.items())),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(_meaningful_lines(result.stdout + result.stderr)[-40:])
        raise JarsError(
            f"mvn could not resolve the jars of {pom} (exit {result.returncode}):\n{tail}"
        )
    if not any(output.glob("*.jar")):
        raise JarsError(f"mvn resolved no jars from {pom}")


def _meaningful_lines(output: str) -> list[str]:
    lines = (_ANSI.sub("", line).rstrip() for line in output.splitlines())
    return [line for line in lines if line.removeprefix("[ERROR]").strip()]


def _describe(pom: Path, properties: dict[str, str]) -> str:
    lines = [f"pom={pom}", *(f"{name}={value}" for name, value in sorted(properties.items()))]
    return "\n".join(lines) + "\n"


def _version_keys(settings: Settings) -> list[str]:
    # The keys come from settings.env itself (values may still be overridden by the
    # environment): stray *_VERSION variables of the shell must not change the cache key.
    if settings.source is not None and settings.source.is_file():
        keys = parse_env_file(settings.source)
    else:
        keys = dict(settings.values)
    return sorted(key for key in keys if key.endswith(_VERSION_SUFFIX))


def _property_name(key: str) -> str:
    return key.lower().replace("_", ".")


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python tests/harness/jars.py IMAGE [IMAGE ...]", file=sys.stderr)
        return 2
    settings = Settings.load()
    try:
        for image in argv:
            print(resolve_jars(image, settings))
    except JarsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
