"""Zip importers that keep their archive's directory when import caches are invalidated
(what a Spark Python worker does before every task)."""

from __future__ import annotations

import importlib
import sys
import zipfile
import zipimport
from collections.abc import Iterator
from pathlib import Path

import pytest

from sparkjob.zipcache import ReadOnceZipImporter, keep_zip_directories

pytestmark = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="CPython 3.12+ re-reads a zip directory lazily itself"
)


def write_archive(path: Path, modules: dict[str, str], mode: str = "w") -> None:
    """Writes (mode "w") or appends to (mode "a": earlier entries keep their offsets)."""
    with zipfile.ZipFile(path, mode) as archive:
        for name, source in modules.items():
            archive.writestr(f"{name}.py", source)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Path]:
    """A zip of modules on sys.path, its importer cached as an import through it leaves it."""
    path = tmp_path / "deps.zip"
    write_archive(path, {"zc_first": "VALUE = 1\n", "zc_second": "VALUE = 2\n"})
    sys.path.insert(0, str(path))
    importlib.import_module("zc_first")
    yield path
    sys.path.remove(str(path))
    sys.path_importer_cache.pop(str(path), None)
    for name in ("zc_first", "zc_second", "zc_third"):
        sys.modules.pop(name, None)


def test_plain_zipimporter_reads_the_directory_again_on_invalidation(archive: Path) -> None:
    # The premise: on this Python, invalidation re-reads the archive at once.
    assert type(sys.path_importer_cache[str(archive)]) is zipimport.zipimporter
    write_archive(archive, {"zc_third": "VALUE = 3\n"}, mode="a")
    importlib.invalidate_caches()
    assert importlib.import_module("zc_third").VALUE == 3


def test_kept_directory_survives_invalidation_and_still_imports(archive: Path) -> None:
    keep_zip_directories()
    finder = sys.path_importer_cache[str(archive)]
    assert type(finder) is ReadOnceZipImporter
    write_archive(archive, {"zc_third": "VALUE = 3\n"}, mode="a")
    importlib.invalidate_caches()
    with pytest.raises(ModuleNotFoundError):  # the directory was not read again
        importlib.import_module("zc_third")
    assert importlib.import_module("zc_second").VALUE == 2  # never imported before


def test_keeping_is_idempotent(archive: Path) -> None:
    keep_zip_directories()
    finder = sys.path_importer_cache[str(archive)]
    keep_zip_directories()
    assert sys.path_importer_cache[str(archive)] is finder
