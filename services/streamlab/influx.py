"""The one InfluxDB write path: influxdb-client's write API, gzip, batches of points.

Line protocol comes from influxdb-client's own serializers only: `Point` for the few
points of the streamer's events, the metrics collector and the job's progress, and its
DataFrame serializer for the Spark job's rows. Writes are synchronous, so a caller knows a
batch is stored before it goes on (the Spark job commits a micro-batch only after that).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
# InfluxDB's answer to a batch some of whose points are older than the bucket's retention:
# it stores the others and says how many it dropped.
_RETENTION_DROPPED = re.compile(r"outside retention policy.*?dropped=(\d+)", re.S)

# Rows of one series within the same microsecond stay distinct points: the time in ns is
# the microsecond timestamp plus seq modulo 1000. The same row always maps to the same
# point, so a re-run of a micro-batch overwrites instead of duplicating.
SEQ_SLOTS = 1000


def point_time_ns(ts_us: int, seq: int) -> int:
    return ts_us * 1000 + seq % SEQ_SLOTS


TIME_COLUMN = "_time_ns"  # a DataFrame's point time in ns, when written by write_frame


@dataclass(frozen=True)
class Series:
    """The points a DataFrame's rows become: measurement, tag columns, field columns."""

    measurement: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class InfluxTarget:
    url: str
    org: str
    bucket: str
    token: str
    batch_size: int  # INFLUX_BATCH_SIZE (settings.env)
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


def point(
    measurement: str, tags: Mapping[str, Any], fields: Mapping[str, Any], time_ns: int
) -> Point | None:
    """A Point with the tags that have a value and the fields that are not None, or None
    when no field has a value (InfluxDB refuses a point without fields)."""
    if all(value is None for value in fields.values()):
        return None
    built = Point(measurement).time(time_ns, WritePrecision.NS)
    for key, value in tags.items():
        if value is not None and str(value) != "":
            built.tag(key, str(value))
    for key, value in fields.items():
        built.field(key, value)
    return built


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class InfluxWriter:
    """One client for many synchronous, gzipped writes of at most batch_size points each;
    raises influxdb-client's ApiException when InfluxDB refuses a batch."""

    def __init__(self, target: InfluxTarget) -> None:
        self.target = target
        self._client = InfluxDBClient(
            url=target.url, token=target.token, org=target.org,
            timeout=target.timeout_ms, enable_gzip=True,
        )  # fmt: skip
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write_points(self, points: Iterable[Point | None]) -> int:
        """Writes the points (None ones skipped); returns how many were stored."""
        written = 0
        for chunk in batches((p for p in points if p is not None), self.target.batch_size):
            written += len(chunk) - self._write(chunk)
        return written

    def _write(self, record: Any, **frame: Any) -> int:
        """One request; returns the points InfluxDB dropped as older than the bucket's
        retention (it stores the rest): a replay of old data with original timestamps must
        not stop a pipeline. Any other refusal raises ApiException."""
        try:
            self._api.write(self.target.bucket, self.target.org, record, WritePrecision.NS, **frame)
        except ApiException as error:
            dropped = _RETENTION_DROPPED.search(error.body or "") if error.status == 422 else None
            if dropped is None:
                raise
            log.warning(
                "InfluxDB dropped %s points older than bucket %s's retention (replaying old "
                "data with original timestamps? use replay.timestamps: send_time)",
                dropped.group(1), self.target.bucket,
            )  # fmt: skip
            return int(dropped.group(1))
        return 0

    def write_frame(
        self,
        frame: pd.DataFrame,
        measurement: str,
        tag_columns: Sequence[str],
        time_column: str,
    ) -> int:
        """Writes one point per row: the tag columns as tags, time_column (ns since the
        epoch) as its time, every other column as a field (nulls left out; a row with no
        field value is skipped by the serializer). Returns the points stored."""
        fields = [c for c in frame.columns if c not in {*tag_columns, time_column}]
        frame = frame[frame[fields].notna().any(axis=1)]
        written = 0
        for start in range(0, len(frame), self.target.batch_size):
            chunk = frame.iloc[start : start + self.target.batch_size]
            written += len(chunk) - self._write(
                chunk,
                data_frame_measurement_name=measurement,
                data_frame_tag_columns=list(tag_columns),
                data_frame_timestamp_column=time_column,
            )
        return written

    def close(self) -> None:
        self._api.close()
        self._client.close()

    def __enter__(self) -> InfluxWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_points(target: InfluxTarget, points: Iterable[Point | None]) -> int:
    """Writes the points with a writer of their own; returns how many."""
    with InfluxWriter(target) as writer:
        return writer.write_points(points)
