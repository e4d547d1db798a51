"""pandas views of what the job wrote, to compare with expectations computed in pandas."""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.streamer import values
from streamlab.influx import point_time_ns


def point_times(rows: pd.DataFrame) -> pd.Series:
    """Each row's point time as the job stamps it (from its ts and seq)."""
    micros = rows["ts"].astype("int64") // 1000
    return pd.Series(
        [point_time_ns(us, seq) for us, seq in zip(micros, rows["seq"], strict=True)], rows.index
    )


def last_per_key(records: list) -> list[dict[str, Any]]:
    """The current value of each key of an update stream: its last record."""
    latest: dict[bytes, Any] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        latest[record.key] = record
    return values(list(latest.values()))


def table(
    rows: list[dict[str, Any]] | pd.DataFrame, columns: list[str], by: list[str]
) -> pd.DataFrame:
    """The columns, rows sorted by `by`, numbers as floats: comparable with assert_frame_equal."""
    frame = pd.DataFrame(rows)[columns].sort_values(by).reset_index(drop=True)
    return frame.astype({c: "float64" for c in columns if frame[c].dtype.kind in "iuf"})
