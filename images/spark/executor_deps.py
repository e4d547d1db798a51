"""Zip the Spark job's pure-Python dependencies for executors that run another interpreter.

On YARN the executors run in the NodeManager container, whose /opt/venv holds only the
compiled packages PySpark's Arrow workers need (pandas, pyarrow, numpy; the hadoop image).
Spark ships pyspark itself; this zip (passed as --py-files) carries the rest: our packages
and the closure of influxdb-client and pyyaml, taken from the installed distributions'
metadata, so that no second list of dependencies exists.

usage: python executor_deps.py OUTPUT.zip
"""

from __future__ import annotations

import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

ROOTS = ("streamlab", "influxdb-client", "pyyaml")
# Provided by Spark itself or by the executors' /opt/venv (compiled), or never imported there.
SKIP = {"pyspark", "py4j", "pandas", "pyarrow", "numpy", "pip", "setuptools"}
_NAME = re.compile(r"^[A-Za-z0-9._-]+")


def closure(roots: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen or name in SKIP:
            continue
        seen.add(name)
        for requirement in metadata.requires(name) or []:
            if "extra ==" in requirement:
                continue
            match = _NAME.match(requirement)
            if match:
                todo.append(match.group(0))
    return seen


def python_files(distribution: str) -> list[Path]:
    dist = metadata.distribution(distribution)
    files = [Path(dist.locate_file(f)) for f in dist.files or []]
    return [f for f in files if f.suffix in (".py", ".typed") and "__pycache__" not in f.parts]


def main(output: str) -> int:
    site = Path(metadata.distribution("influxdb-client").locate_file(""))
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(closure(ROOTS)):
            for path in python_files(name):
                archive.write(path, path.relative_to(site))
            print(f"executor deps: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
