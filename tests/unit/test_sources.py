"""Sources: CSV replay (pandas dialects), JSON Lines, HTTP polling (against a local feed
over real HTTP: paths, headers, back-off), synthetic rows."""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import json
import lzma
import time
import zipfile
from pathlib import Path

import pytest

from harness.gbfs import GbfsFeed, station_status
from streamer.records import RecordFilter, RowError, RowParser
from streamer.sources import (
    CsvRows,
    HttpRows,
    JsonlRows,
    SourceError,
    SyntheticRows,
    Unreadable,
    records_at,
)
from streamlab.specs import CsvSource, JsonlSource, load_spec, parse_spec

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


def _spec(tmp: Path, source: dict, fields: dict, tags: list | None = None, **more):
    document = {"name": "x", "source": source, "fields": fields, "tags": tags or [], **more}
    if source["type"] != "synthetic" and "timestamp" not in more:
        document["timestamp"] = {"column": "t", "format": "epoch_s"}
    return parse_spec(document, tmp / "x.yaml", {})


def _csv(tmp: Path, source: CsvSource) -> CsvRows:
    return CsvRows(source)


def test_csv_loops_or_stops(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    stop = _csv(tmp_path, CsvSource(path, at_end="stop"))
    assert _drain(stop) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}] and stop.finished
    loop = _csv(tmp_path, CsvSource(path, at_end="loop"))
    assert [loop.next_row()["a"] for _ in range(5)] == ["1", "3", "1", "3", "1"]
    assert loop.looped == 2 and not loop.finished
    stop.rewind()
    assert stop.next_row() == {"a": "1", "b": "2"}


def test_csv_dialect_through_pandas(tmp_path: Path) -> None:
    """Météo-France's layout: semicolons, gzip, decimal commas, empty values, a comment
    and a preamble line, latin-1, a column name that is no field name."""
    text = (
        "exported by hand\n"
        "NUM_POSTE;T (°C);RR1;NOTE\n"
        "# a comment line\n"
        "0031;12,5;;ok\n"
        "0032;1.234,5;mq;été\n"
        "0033;warm;0,2;x\n"
    )
    path = tmp_path / "meteo.csv.gz"
    path.write_bytes(gzip.compress(text.encode("latin-1")))
    config = CsvSource(
        path, at_end="stop", delimiter=";", encoding="latin-1", decimal=",", thousands=".",
        comment="#", skiprows=1, na_values=("mq",), chunk_rows=2,
    )  # fmt: skip
    rows = _drain(_csv(tmp_path, config))
    assert [r["NUM_POSTE"] for r in rows] == ["0031", "0032", "0033"]  # text: zeros kept
    assert [r["T (°C)"] for r in rows] == ["12,5", "1.234,5", "warm"]  # as in the file
    assert [r["NOTE"] for r in rows] == ["ok", "été", "x"]
    assert rows[1]["RR1"] is None  # na_values
    document = {"type": "csv", "path": path.name, "delimiter": ";", "decimal": ",",
                "thousands": "."}  # fmt: skip
    spec = _spec(tmp_path, document, {"temp_c": {"type": "float", "source": "T (°C)"}})
    parser = RowParser(spec)
    assert [parser.parse({**r, "t": 1}).fields["temp_c"] for r in rows[:2]] == [12.5, 1234.5]
    with pytest.raises(RowError, match=r"field 'temp_c'='warm'"):
        parser.parse({**rows[2], "t": 1})


@pytest.mark.parametrize("suffix", [".bz2", ".xz", ".zip", ".csv"])
def test_csv_compression_is_inferred_from_the_name(tmp_path: Path, suffix: str) -> None:
    data = b"a,b\n1,2\n"
    path = tmp_path / f"data{suffix}"
    if suffix == ".bz2":
        path.write_bytes(bz2.compress(data))
    elif suffix == ".xz":
        path.write_bytes(lzma.compress(data))
    elif suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data.csv", data)
    else:
        path.write_bytes(data)
    assert _drain(_csv(tmp_path, CsvSource(path, at_end="stop"))) == [{"a": "1", "b": "2"}]


def _jsonl(tmp: Path, lines: list[str], records_path: str = "", at_end: str = "stop"):
    path = tmp / "x.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    return JsonlRows(JsonlSource(path, at_end=at_end, records_path=records_path))


def test_jsonl_reads_records_inside_each_document(tmp_path: Path) -> None:
    doc = lambda *ids: json.dumps({"d": {"v": [{"s": [{"id": i}]} for i in ids]}})  # noqa: E731
    source = _jsonl(tmp_path, [doc(1, 2), "", doc(3), "not json", '{"d": {}}'], "d.v[].s[]")
    rows = _drain(source)
    assert rows[:3] == [{"id": 1}, {"id": 2}, {"id": 3}] and source.finished
    bad, missing = rows[3:]
    assert isinstance(bad, Unreadable) and bad.reason.startswith("line 4: not JSON")
    assert isinstance(missing, Unreadable)
    assert missing.reason == "line 5: records_path 'd.v[].s[]' found no list"
    looping = _jsonl(tmp_path, [doc(1), doc(2)], "d.v[].s[]", at_end="loop")
    assert [looping.next_row()["id"] for _ in range(5)] == [1, 2, 1, 2, 1]


def test_filters_by_equality_or_jmespath() -> None:
    assert RecordFilter({"is_installed": 1}).keeps({"is_installed": 1})
    assert not RecordFilter({"is_installed": 1}).keeps({"is_installed": 0})
    codes = RecordFilter("contains(['16107', '32017'], stationCode)")
    assert codes.keeps({"stationCode": "16107"}) and not codes.keeps({"stationCode": "1"})
    assert not codes.keeps({})  # no stationCode: contains() of null is not true
    compare = RecordFilter("num_bikes_available > `3` && is_renting == `1`")
    assert compare.keeps({"num_bikes_available": 5, "is_renting": 1})
    assert not compare.keeps({"num_bikes_available": 5, "is_renting": 0})


def test_http_sends_the_specs_headers_with_keys_from_the_env(tmp_path: Path) -> None:
    with GbfsFeed({"results": [{"t": 1, "v": 2}]}) as feed:
        source = {"type": "http", "url": feed.url, "records_path": "results"}
        source["headers"] = {"apikey": "${IDFM_API_KEY}", "Accept": "application/json"}
        spec = _spec(tmp_path, source, {"v": "int"})
        rows = _drain(HttpRows(spec.source, spec, {"IDFM_API_KEY": "k-123"}))
        sent = {name.lower(): value for name, value in feed.seen_headers.items()}
        assert rows == [{"t": 1, "v": 2}] and sent["apikey"] == "k-123"
        with pytest.raises(SourceError, match=r"needs \$\{IDFM_API_KEY\}: add IDFM_API_KEY="):
            HttpRows(spec.source, spec, {}).next_row()


def test_http_backs_off_on_429_and_5xx_and_says_when_it_tries_again(tmp_path: Path) -> None:
    with GbfsFeed({"results": [{"t": 1, "v": 2}]}) as feed:
        source = {"type": "http", "url": feed.url, "records_path": "results"}
        source.update(poll_interval_s=1, backoff_max_s=3)
        spec = _spec(tmp_path, source, {"v": "int"})
        http = HttpRows(spec.source, spec, {})
        feed.status = 503
        with pytest.raises(SourceError, match="answered 503; next try in 2 s"):
            http.next_row()
        assert http.next_row() is None and feed.requests == 1  # waits, no second request
        state = http.state
        assert (state["state"], state["failures"]) == ("backing_off", 1)
        assert 1.5 < state["next_try_at"] - time.time() <= 2
        feed.status, feed.headers = 429, {"Retry-After": "7"}
        http._next_poll = 0.0  # the test does not wait the 2 s
        with pytest.raises(SourceError, match="answered 429; next try in 7 s"):
            http.next_row()


def test_http_polls_filters_and_dedupes() -> None:
    doc = station_status(
        [_station("a", 100), _station("b", 100), _station("c", 100, installed=0)], 100
    )
    with GbfsFeed(doc) as feed:
        spec, config = _bikes(feed.url)
        source = HttpRows(config, spec, {})
        keep = RecordFilter(config.filter)
        assert [r["station_id"] for r in _drain(source) if keep.keeps(r)] == ["a", "b"]
        # The next poll: only station a reported again.
        feed.document = station_status([_station("a", 130, bikes=5), _station("b", 100)], 130)
        rows = _drain(source)
        assert [(r["station_id"], r["num_bikes_available"]) for r in rows] == [("a", 5)]
        assert feed.requests >= 2


def test_http_waits_for_the_poll_interval() -> None:
    with GbfsFeed(station_status([_station("a", 1)], 1)) as feed:
        spec, config = _bikes(feed.url, poll=60)
        source = HttpRows(config, spec, {})
        assert len(_drain(source)) == 1
        assert source.next_row() is None and feed.requests == 1
        assert 0 < source.wait_hint() <= 0.5


def test_http_errors_raise_source_error() -> None:
    with GbfsFeed(station_status([], 1)) as feed:
        spec, config = _bikes(feed.url)
        feed.status = 503
        with pytest.raises(SourceError, match="503"):
            HttpRows(config, spec, {}).next_row()
        feed.status = 200
        feed.document = {"data": {}}
        with pytest.raises(SourceError, match=r"'data\.stations' does not lead to a list"):
            HttpRows(config, spec, {}).next_row()


def test_records_at() -> None:
    assert records_at({"a": {"b": [1]}}, "a.b") == [1]
    assert records_at([1, 2], "") == [1, 2]
    assert records_at({"a": [{"b": [1, 2]}, {"b": [3]}]}, "a[].b[]") == [1, 2, 3]
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
