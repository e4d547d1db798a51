"""On a real Spark Python worker: Spark puts zip archives on its path, and once the job's
code has run there, invalidating import caches (as the worker does before every task)
leaves their importers' directories as they were."""

from __future__ import annotations

import importlib
import sys
import zipimport
from collections.abc import Iterator

import pytest

from sparkjob.zipcache import ReadOnceZipImporter, keep_zip_directories

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ re-reads zips lazily itself"),
]


def test_a_worker_keeps_the_archives_spark_puts_on_its_path(spark) -> None:
    def zip_importers(_: Iterator[int]) -> Iterator[dict[str, type]]:
        """In a worker task: each zip importer on the path, by archive, after keeping them
        and invalidating the import caches. (Nested: workers cannot import test modules.)"""
        keep_zip_directories()
        importlib.invalidate_caches()
        yield {
            path: type(finder)
            for path, finder in sys.path_importer_cache.items()
            if isinstance(finder, zipimport.zipimporter)
        }

    results = spark.sparkContext.parallelize(range(2), 2).mapPartitions(zip_importers).collect()
    assert len(results) == 2
    for importers in results:
        assert any(path.endswith("pyspark.zip") for path in importers), importers
        assert set(importers.values()) == {ReadOnceZipImporter}, importers
