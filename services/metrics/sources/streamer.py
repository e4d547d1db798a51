"""The streamer's GET /streams: per stream its asked and achieved rate, counters and state."""

from __future__ import annotations

from typing import Any

from ..points import Point

PATH = "/streams"
# Rate modes whose asked rate is rows per second (speed-up mode: the data sets the pace).
ROWS_PER_S_MODES = ("rows_per_second", "interval_s")


def stream_points(data: dict[str, Any]) -> list[Point]:
    return [_stream_point(stream) for stream in data["streams"]]


def _stream_point(stream: dict[str, Any]) -> Point:
    rate = stream["rate"]
    asked = rate.get("rows_per_second") if rate.get("mode") in ROWS_PER_S_MODES else None
    return Point(
        "streamer_stream",
        {"stream": str(stream["name"])},
        {
            "asked_rows_per_s": None if asked is None else float(asked),
            "achieved_rows_per_s": float(stream["achieved_rows_per_second"]),
            "rows_sent": int(stream["rows_sent"]),
            "rows_deadlettered": int(stream["rows_deadlettered"]),
            "rows_filtered": int(stream["rows_filtered"]),
            "state": str(stream["state"]),
            "running": 1 if stream["state"] == "running" else 0,
        },
    )
