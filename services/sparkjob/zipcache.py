"""Python workers: the zip archives on their path are read once, not before every task.

Spark's Python worker calls importlib.invalidate_caches() before each task
(pyspark.worker_util.setup_spark_files). On CPython 3.10 and 3.11 that makes every
zipimporter on the path read its archive's directory again, in Python, at once
(gh-103200; 3.12 re-reads only on the next miss). Spark puts pyspark.zip, py4j's zip and
the spark-core jar on the workers' PYTHONPATH: about 12,000 entries, 0.1 s per task on an
idle machine here and up to 1 s on a busy one, more than a small micro-batch's own work.
"""

from __future__ import annotations

import sys
import zipimport


class ReadOnceZipImporter(zipimport.zipimporter):
    """A zipimporter that keeps its archive's directory: the archives on a worker's path
    (Spark's own, and the job's dependency zip) do not change while the worker runs."""

    def invalidate_caches(self) -> None:
        pass


def keep_zip_directories() -> None:
    """Makes the zip importers known to this process keep their directories from now on.

    Idempotent and cheap (a look at each path's cached finder); the first task of each
    worker still pays one re-read, as it runs before any job code.
    """
    if sys.version_info >= (3, 12):
        return
    for path, finder in list(sys.path_importer_cache.items()):
        if type(finder) is zipimport.zipimporter:
            sys.path_importer_cache[path] = ReadOnceZipImporter(path)
