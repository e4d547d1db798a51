"""Sources: CSV replay, HTTP polling (against a local feed over real HTTP), synthetic rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.gbfs import GbfsFeed, station_status
from streamer.sources import CsvRows, HttpRows, SourceError, SyntheticRows, records_at
from streamlab.specs import CsvSource, load_spec

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def _station(sid: str, reported: int, bikes: int = 3, installed: int = 1) -> dict:
    return {
        "station_id": sid,
        "num_bikes_available": bikes,
        "num_docks_available": 10 - bikes,
        "is_installed": installed,
        "is_renting": 1,
        "is_returning": 1,
        "last_reported": reported,
    }


def _bikes(url: str, poll: float = 0.0):
    spec = load_spec(DATASETS / "bikes.yaml", {"BIKES_FEED_URL": url})
    return spec, dataclasses.replace(spec.source, poll_interval_s=poll or 0.001)


def _drain(source) -> list[dict]:
    rows = []
    while (row := source.next_row()) is not None:
        rows.append(row)
    return rows


def test_csv_loops_or_stops(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    stop = CsvRows(CsvSource(path, at_end="stop"))
    assert _drain(stop) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}] and stop.finished
    loop = CsvRows(CsvSource(path, at_end="loop"))
    assert [loop.next_row()["a"] for _ in range(5)] == ["1", "3", "1", "3", "1"]
    assert loop.looped == 2 and not loop.finished
    stop.rewind()
    assert stop.next_row() == {"a": "1", "b": "2"}


def test_http_polls_filters_and_dedupes() -> None:
    doc = station_status(
        [_station("a", 100), _station("b", 100), _station("c", 100, installed=0)], 100
    )
    with GbfsFeed(doc) as feed:
        spec, config = _bikes(feed.url)
        source = HttpRows(config, spec)
        assert [r["station_id"] for r in _drain(source)] == ["a", "b"]
        # The next poll: only station a reported again.
        feed.document = station_status([_station("a", 130, bikes=5), _station("b", 100)], 130)
        rows = _drain(source)
        assert [(r["station_id"], r["num_bikes_available"]) for r in rows] == [("a", 5)]
        assert feed.requests >= 2


def test_http_waits_for_the_poll_interval() -> None:
    with GbfsFeed(station_status([_station("a", 1)], 1)) as feed:
        spec, config = _bikes(feed.url, poll=60)
        source = HttpRows(config, spec)
        assert len(_drain(source)) == 1
        assert source.next_row() is None and feed.requests == 1
        assert 0 < source.wait_hint() <= 0.5


def test_http_errors_raise_source_error() -> None:
    with GbfsFeed(station_status([], 1)) as feed:
        spec, config = _bikes(feed.url)
        feed.status = 503
        with pytest.raises(SourceError, match="503"):
            HttpRows(config, spec).next_row()
        feed.status = 200
        feed.document = {"data": {}}
        with pytest.raises(SourceError, match="key 'stations' not found"):
            HttpRows(config, spec).next_row()


def test_records_at() -> None:
    assert records_at({"a": {"b": [1]}}, "a.b") == [1]
    assert records_at([1, 2], "") == [1, 2]
    with pytest.raises(SourceError, match="does not lead to a list"):
        records_at({"a": 1}, "a")


def test_synthetic_is_seeded_and_cycles_tags() -> None:
    spec = load_spec(DATASETS / "sensors.yaml")
    first, second = SyntheticRows(spec.source), SyntheticRows(spec.source)
    rows = [first.next_row() for _ in range(8)]
    assert [r["sensor"] for r in rows] == ["s1", "s2", "s3", "s4"] * 2
    assert [r["temperature"] for r in rows] == [second.next_row()["temperature"] for _ in range(8)]
    assert all(r["status"] in ("ok", "warn") for r in rows)
    limited = SyntheticRows(dataclasses.replace(spec.source, rows=3))
    assert len(_drain(limited)) == 3 and limited.finished
