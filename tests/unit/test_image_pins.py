"""Python packages an image installs by a version from settings.env match pyproject.toml's
pins, so the YARN executors run the pandas and pyarrow the driver and the tests run."""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlab.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_executor_packages_match_the_spark_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = dict(p.split("==") for p in project["project"]["optional-dependencies"]["spark"])
    settings = Settings.load(ROOT / "settings.env")
    assert settings.str("PANDAS_VERSION") == pins["pandas"]
    assert settings.str("PYARROW_VERSION") == pins["pyarrow"]
    dockerfile = (ROOT / "images" / "hadoop" / "Dockerfile").read_text()
    assert '"pandas==$PANDAS_VERSION" "pyarrow==$PYARROW_VERSION"' in dockerfile
