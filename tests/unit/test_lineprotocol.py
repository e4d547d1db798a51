"""Line protocol written by the Spark job's sinks, checked against the InfluxDB double's parser."""

from __future__ import annotations

from doubles.influxdb.lineprotocol import parse
from sparkjob.lineprotocol import line, lines, point_time_ns


def test_escapes_and_types_round_trip() -> None:
    text = line(
        "my data",
        {"station": "san francisco,ca", "k=v": "a\\b"},
        {"temp": 1.5, "count": 3, "ok": True, "note": 'say "hi"\\', "missing": None},
        123,
    )
    assert text is not None
    result = parse(text, precision="ns", now_ns=0)
    assert result.errors == []
    (point,) = result.points
    assert point.measurement == "my data"
    assert dict(point.tags) == {"station": "san francisco,ca", "k=v": "a\\b"}
    assert {k: f.value for k, f in point.fields.items()} == {
        "temp": 1.5,
        "count": 3,
        "ok": True,
        "note": 'say "hi"\\',
    }
    assert point.time_ns == 123


def test_a_point_needs_a_field() -> None:
    assert line("m", {"t": "x"}, {"f": None}, 1) is None


def test_distinct_rows_get_distinct_times_and_replays_the_same() -> None:
    rows = [{"station": "a", "temp": 1.0, "ts_us": 1_000_000, "seq": s} for s in range(5)]
    first = lines("temps", rows, ["station"], ["temp"])
    assert len({t.rsplit(" ", 1)[1] for t in first}) == 5
    assert lines("temps", rows, ["station"], ["temp"]) == first
    assert point_time_ns(2, 1001) == 2001
