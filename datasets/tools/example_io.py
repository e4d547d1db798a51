"""Writing helpers shared by the make_*.py generators of the shipped examples' data.

Every generator takes `--out DIR`, the datasets folder to write into (default: this repo's
datasets/), and writes files under DIR/data/ or DIR/feeds/<name>/. Output is byte-identical
from run to run: seeded RNGs, fixed base dates, gzip without a timestamp or a file name.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DATASETS = Path(__file__).resolve().parents[1]


def out_dir(description: str, argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=DATASETS,
        help="datasets folder to write into (default: %(default)s)",
    )
    return parser.parse_args(argv).out


def gzip_bytes(data: bytes) -> bytes:
    """gzip with mtime 0 and no file name in the header, so equal input gives equal bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as handle:
        handle.write(data)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def json_text(document: Any, indent: int | None = None) -> str:
    separators = None if indent else (",", ":")
    return json.dumps(document, ensure_ascii=False, indent=indent, separators=separators)


def write_feed(folder: Path, stem: str, documents: Iterable[Any]) -> list[Path]:
    """One pretty-printed JSON file per document, <stem>-001.json, ...; stale ones removed."""
    written = [
        write(folder / f"{stem}-{number:03d}.json", (json_text(doc, indent=2) + "\n").encode())
        for number, doc in enumerate(documents, start=1)
    ]
    for stale in set(folder.glob(f"{stem}-*.json")) - set(written):
        stale.unlink()
    return written
