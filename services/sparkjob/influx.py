"""Batched writes to InfluxDB 2: thousands of lines per gzip request, flushed and closed per call."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS


@dataclass(frozen=True)
class InfluxTarget:
    url: str
    org: str
    bucket: str
    token: str
    batch_lines: int = 5000
    timeout_ms: int = 30_000

    def __repr__(self) -> str:  # never print the token
        return f"InfluxTarget(url={self.url!r}, org={self.org!r}, bucket={self.bucket!r})"


def read_token(path: Path) -> str:
    """The token from its file (never from a command line or settings.env)."""
    try:
        token = path.read_text().strip()
    except OSError as error:
        raise RuntimeError(
            f"cannot read the InfluxDB token file {path} ({error.strerror}): "
            "run the provisioner, which writes it, or set INFLUX_WRITE_TOKEN_FILE"
        ) from None
    if not token:
        raise RuntimeError(f"the InfluxDB token file {path} is empty: re-run the provisioner")
    return token


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for text in lines:
        chunk.append(text)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_lines(target: InfluxTarget, lines: Iterable[str]) -> int:
    """Writes every line (ns precision) and returns how many; raises if InfluxDB refuses."""
    written = 0
    with InfluxDBClient(
        url=target.url, token=target.token, org=target.org, timeout=target.timeout_ms,
        enable_gzip=True,
    ) as client:  # fmt: skip
        api = client.write_api(write_options=SYNCHRONOUS)
        for chunk in _chunks(lines, target.batch_lines):
            api.write(target.bucket, target.org, "\n".join(chunk), WritePrecision.NS)
            written += len(chunk)
    return written
