"""streamlab.influx, the one write path, on the real InfluxDB: batches, nulls, types, and
points older than the bucket's retention dropped without stopping the writer."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from influxdb_client.rest import ApiException

from harness.influx import DATA_BUCKET, InfluxLab
from streamlab.influx import InfluxTarget, InfluxWriter, point

pytestmark = pytest.mark.integration

DAY_NS = 86400 * 10**9


def writer(influx: InfluxLab, batch_size: int = 2) -> InfluxWriter:
    return InfluxWriter(InfluxTarget(influx.url, "streamlab", DATA_BUCKET, influx.write_token,
                                     batch_size=batch_size))  # fmt: skip


def test_a_frame_in_batches_keeps_types_and_leaves_nulls_out(influx: InfluxLab) -> None:
    now = time.time_ns()
    frame = pd.DataFrame(
        {
            "station": ["a", "b", "c", None],
            "temp": [1.5, None, None, 2.0],
            "count": pd.array([3, None, None, 4], dtype="Int64"),
            "ok": pd.array([True, None, None, False], dtype="boolean"),
            "_time_ns": [now + i for i in range(4)],
        }
    )
    with writer(influx) as w:
        assert w.write_frame(frame, "m", ["station"], "_time_ns") == 2  # b, c: no field
    points = influx.points("m")
    assert [(p["tags"], p["fields"], p["time_ns"]) for p in points] == [
        ({"station": "a"}, {"temp": 1.5, "count": 3, "ok": True}, now),
        ({}, {"temp": 2.0, "count": 4, "ok": False}, now + 3),
    ]
    assert points[0]["field_types"] == {"temp": "float", "count": "integer", "ok": "boolean"}


def test_points_older_than_the_retention_are_dropped_not_fatal(influx: InfluxLab) -> None:
    now = time.time_ns()
    old = [point("m", {"s": "x"}, {"v": float(i)}, now - 30 * DAY_NS + i) for i in range(3)]
    new = [point("m", {"s": "x"}, {"v": 9.0}, now)]
    with writer(influx, batch_size=10) as w:
        assert w.write_points([*old, *new]) == 1
    assert [p["fields"]["v"] for p in influx.points("m")] == [9.0]


def test_any_other_refusal_raises(influx: InfluxLab) -> None:
    now = time.time_ns()
    with writer(influx) as w:
        w.write_points([point("m", {}, {"v": 1.0}, now)])
        with pytest.raises(ApiException) as caught:
            w.write_points([point("m", {}, {"v": "text"}, now + 1)])  # a float field
    assert caught.value.status == 422 and "conflict" in caught.value.body
