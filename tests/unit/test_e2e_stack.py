"""The e2e harness's reading of a Spark file sink's layer, on tar streams built here."""

from __future__ import annotations

import io
import json
import tarfile

from e2e.stack import Stack


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _log(*paths: str) -> bytes:
    lines = ["v1"] + [
        json.dumps({"path": f"file:/data/lake/raw/t/{p}", "action": "add"}) for p in paths
    ]
    return "\n".join(lines).encode()


def test_only_committed_parquet_files_count_and_checksums_are_not_read_as_log() -> None:
    # The local filesystem of the lite profile writes a binary .N.crc beside each log file.
    tar = _tar(
        {
            "t/_spark_metadata/0": _log("part-0.parquet"),
            "t/_spark_metadata/.0.crc": b"crc\x00\x00\x02\x00\x00\x98\x83\x92",
            "t/part-0.parquet": b"committed",
            "t/part-1.parquet": b"left by a killed batch",
            "t/.part-0.parquet.crc": b"crc\x00\x98",
        }
    )
    assert Stack._parquet_files(tar) == [b"committed"]


def test_a_layer_without_a_sink_log_is_all_its_parquet_files() -> None:
    tar = _tar({"t/date=2024-01-01/a.parquet": b"a", "t/_SUCCESS": b"", "t/b.parquet": b"b"})
    assert sorted(Stack._parquet_files(tar)) == [b"a", b"b"]
