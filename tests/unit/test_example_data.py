"""The shipped examples' data (datasets/data, datasets/feeds): each file is what its generator
in datasets/tools writes, byte for byte, and has the shape its dataset spec relies on."""

from __future__ import annotations

import csv
import gzip
import importlib
import io
import itertools
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jmespath
import pandas as pd
import pytest

from streamer.records import RowParser
from streamer.sources import SyntheticRows
from streamlab.specs import SyntheticSource, load_spec

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
GENERATORS = ("make_idfm_stops", "make_users", "make_velib", "make_meteo_31", "make_cars")
VISITS = "Siri.ServiceDelivery.StopMonitoringDelivery[].MonitoredStopVisit[]"


def generator(name: str) -> Callable[[Path], list[Path]]:
    tools = str(DATASETS / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)  # the scripts import their sibling example_io
    return importlib.import_module(name).main


def _content(path: Path) -> bytes:
    """gzip files compare by content: zlib builds may compress the same bytes differently."""
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_is_deterministic_and_matches_the_shipped_files(
    name: str, tmp_path: Path
) -> None:
    main = generator(name)
    first = sorted(p.relative_to(tmp_path / "a") for p in main(tmp_path / "a"))
    second = sorted(p.relative_to(tmp_path / "b") for p in main(tmp_path / "b"))
    assert first == second
    for relative in first:
        fresh = (tmp_path / "a" / relative).read_bytes()
        assert fresh == (tmp_path / "b" / relative).read_bytes(), (
            f"{relative} differs between two runs"
        )
        assert len(fresh) < 300_000, f"{relative} is {len(fresh)} bytes: keep shipped data small"
        shipped = DATASETS / relative
        assert shipped.is_file(), f"{shipped} is missing: run python datasets/tools/{name}.py"
        assert _content(shipped) == _content(tmp_path / "a" / relative), (
            f"{shipped} is not what datasets/tools/{name}.py writes: edit the script, not the data, "
            "and rerun it"
        )
    for folder in {relative.parent for relative in first if relative.parts[0] == "feeds"}:
        shipped_files = sorted(p.relative_to(DATASETS) for p in (DATASETS / folder).glob("*.json"))
        assert shipped_files == [r for r in first if r.parent == folder], f"stray files in {folder}"


def test_the_generator_writes_again_over_old_output(tmp_path: Path) -> None:
    main = generator("make_users")
    main(tmp_path)
    (tmp_path / "feeds" / "users" / "page-099.json").write_text("{}")
    main(tmp_path)
    assert not (tmp_path / "feeds" / "users" / "page-099.json").exists()


# --- IDFM stop monitoring (seed 000) ---------------------------------------------------------


def _idfm_lines() -> list[dict[str, Any]]:
    with gzip.open(DATASETS / "data" / "idfm_stops.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_idfm_lines_are_siri_stop_monitoring_responses() -> None:
    lines = _idfm_lines()
    assert len(lines) == 40
    visits = [jmespath.search(VISITS, line) for line in lines]
    assert [len(v) for v in visits].count(12) == 39
    assert visits[34] == []  # line 35: the upstream error
    assert lines[34]["Siri"]["ServiceDelivery"]["StopMonitoringDelivery"][0]["Status"] == "false"
    stops = {v["MonitoringRef"]["value"] for line in visits for v in line}
    assert stops == {
        "STIF:StopPoint:Q:41872:",
        "STIF:StopPoint:Q:41873:",
        "STIF:StopPoint:Q:41874:",
    }
    for line in lines:
        _iso(line["Siri"]["ServiceDelivery"]["ResponseTimestamp"])


def _flaws(visit: dict[str, Any]) -> list[str]:
    journey = visit["MonitoredVehicleJourney"]
    call = journey["MonitoredCall"]
    flaws = [] if "LineRef" in journey else ["no LineRef"]
    flaws += [] if call["StopPointName"] else ["no StopPointName"]
    try:
        _iso(call["ExpectedDepartureTime"])
    except KeyError:
        flaws.append("no ExpectedDepartureTime")
    except ValueError:
        flaws.append("bad ExpectedDepartureTime")
    return flaws


def test_idfm_bad_visits_are_exactly_the_documented_ones() -> None:
    found = {
        (number, index): _flaws(visit)
        for number, line in enumerate(_idfm_lines(), start=1)
        for index, visit in enumerate(jmespath.search(VISITS, line))
        if _flaws(visit)
    }
    assert found == {
        (6, 2): ["no ExpectedDepartureTime"],
        (14, 5): ["no LineRef"],
        (22, 7): ["bad ExpectedDepartureTime"],
        (30, 9): ["no StopPointName"],
    }


def test_idfm_good_visits_have_the_fields_a_spec_reads() -> None:
    paths = {
        "line": "MonitoredVehicleJourney.LineRef.value",
        "stop": "MonitoredVehicleJourney.MonitoredCall.StopPointName[0].value",
        "status": "MonitoredVehicleJourney.MonitoredCall.DepartureStatus",
        "aimed": "MonitoredVehicleJourney.MonitoredCall.AimedDepartureTime",
        "expected": "MonitoredVehicleJourney.MonitoredCall.ExpectedDepartureTime",
    }
    statuses = set()
    for line in _idfm_lines():
        for visit in jmespath.search(VISITS, line):
            if _flaws(visit):
                continue
            values = {key: jmespath.search(path, visit) for key, path in paths.items()}
            assert all(values.values()), values
            assert _iso(values["expected"]) >= _iso(values["aimed"])
            statuses.add(values["status"])
    assert statuses == {"onTime", "delayed", "cancelled"}


# --- RandomUser pages (seed 001) ---------------------------------------------------------------


def test_user_pages_are_randomuser_shaped_without_credentials() -> None:
    pages = sorted((DATASETS / "feeds" / "users").glob("page-*.json"))
    assert len(pages) == 20
    uuids = []
    for number, path in enumerate(pages, start=1):
        page = json.loads(path.read_text(encoding="utf-8"))
        assert page["info"] == {
            "seed": page["info"]["seed"],
            "results": 5,
            "page": number,
            "version": "1.4",
        }
        assert len(page["results"]) == 5
        for user in page["results"]:
            assert set(user["login"]) == {"uuid", "username"}  # no password, salt or hashes
            assert user["email"].endswith("@example.com")
            assert {"title", "first", "last"} == set(user["name"])
            float(user["location"]["coordinates"]["latitude"])
            assert user["dob"]["date"].endswith("Z") and isinstance(user["dob"]["age"], int)
            uuids.append(user["login"]["uuid"])
    assert len(set(uuids)) == len(uuids) == 100


# --- Vélib' station_status (seed 004) ------------------------------------------------------------


def _velib_snapshots() -> list[dict[str, Any]]:
    paths = sorted((DATASETS / "feeds" / "velib").glob("station_status-*.json"))
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


def test_velib_snapshots_hold_the_seed_stations_with_consistent_bike_types() -> None:
    snapshots = _velib_snapshots()
    assert len(snapshots) == 10
    for snapshot in snapshots:
        stations = {s["stationCode"]: s for s in snapshot["data"]["stations"]}
        assert len(stations) == 30 and {"16107", "32017"} <= set(stations)
        for station in stations.values():
            mechanical = jmespath.search("num_bikes_available_types[0].mechanical", station)
            ebike = jmespath.search("num_bikes_available_types[1].ebike", station)
            assert (
                mechanical + ebike == station["num_bikes_available"] == station["numBikesAvailable"]
            )
            assert station["num_docks_available"] >= 0
    assert all(isinstance(s["station_id"], int) for s in snapshots[0]["data"]["stations"])
    reported = [
        {s["stationCode"]: s["last_reported"] for s in snap["data"]["stations"]}
        for snap in snapshots
    ]
    assert all(later["16107"] > earlier["16107"] for earlier, later in itertools.pairwise(reported))
    assert len({r["32017"] for r in reported}) > 1
    assert len({r["08031"] for r in reported}) == 1  # closed for works: never reports


def test_velib_station_table_covers_every_station() -> None:
    with open(DATASETS / "data" / "velib_stations.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["station_id", "stationCode", "name", "postcode"]
    table = {row["stationCode"]: row for row in rows}
    assert table["16107"]["postcode"] == "75016" and table["16107"]["station_id"] == "213688169"
    assert table["32017"]["postcode"] == "93200" and table["32017"]["station_id"] == "2515829865"
    fed = {
        (str(s["station_id"]), s["stationCode"]) for s in _velib_snapshots()[0]["data"]["stations"]
    }
    assert fed == {(row["station_id"], row["stationCode"]) for row in rows}


def test_velib_spec_looks_up_the_station_table_on_station_id() -> None:
    spec = load_spec(DATASETS / "velib.yaml", {"VELIB_FEED_URL": "http://127.0.0.1:9/velib"})
    (lookup,) = spec.lookups
    assert Path(lookup.table) == DATASETS / "data" / "velib_stations.csv"
    assert (lookup.key, lookup.table_key, lookup.tags) == (
        "station_id",
        "station_id",
        ("name", "postcode"),
    )
    assert "station_id" in spec.tags


# --- Météo-France hourly, Haute-Garonne (seed 002) ----------------------------------------------


def test_meteo_file_has_meteo_france_hourly_layout() -> None:
    raw = gzip.decompress((DATASETS / "data" / "meteo_31.csv.gz").read_bytes()).decode()
    header = raw.split("\n", 1)[0].split(";")
    assert header[:6] == ["NUM_POSTE", "NOM_USUEL", "LAT", "LON", "ALTI", "AAAAMMJJHH"]
    for measure in ("RR1", "FF", "DD", "T", "TN", "TX", "U", "PSTAT", "VV"):
        assert header[header.index(measure) + 1] == f"Q{measure}"
    frame = pd.read_csv(io.StringIO(raw), sep=";", dtype={"NUM_POSTE": str, "AAAAMMJJHH": str})
    assert frame.shape[1] == len(header) == 204
    assert frame.groupby("NUM_POSTE").size().to_dict() == {
        "31069001": 168,
        "31901001": 168,
        "31902001": 166,
    }
    assert (frame.loc[frame.NUM_POSTE == "31069001", "NOM_USUEL"] == "TOULOUSE-BLAGNAC").all()
    times = pd.to_datetime(frame["AAAAMMJJHH"], format="%Y%m%d%H")
    assert times.min() == pd.Timestamp("2023-10-16 00:00") and times.max() == pd.Timestamp(
        "2023-10-22 23:00"
    )
    assert frame["T"].dtype == float and frame["T"].dropna().between(-10, 40).all()
    assert frame["PSTAT"].notna().sum() == 168  # only Blagnac has a barometer
    assert frame["QT"].isna().sum() == 3  # the COTEAUX-DU-GIROU drop-out
    assert frame.isna().to_numpy().mean() > 0.5  # most measures are not taken anywhere


# --- Cars and their dimension tables (seed 003) -------------------------------------------------


def _car_table(name: str) -> list[dict[str, str]]:
    with open(DATASETS / "data" / "cars" / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_car_tables_join_without_a_miss() -> None:
    cars, models, colors = _car_table("cars"), _car_table("models"), _car_table("colors")
    assert list(cars[0]) == ["car_id", "driver_id", "model_id", "color_id"]
    assert list(models[0]) == ["model_id", "brand_name", "model_name"]
    assert list(colors[0]) == ["color_id", "color_name"]
    assert (len(cars), len(models), len(colors)) == (20, 7, 7)
    for table, key in (
        (cars, "car_id"),
        (cars, "driver_id"),
        (models, "model_id"),
        (colors, "color_id"),
    ):
        assert len({row[key] for row in table}) == len(table), f"{key} repeats"
    assert all(len(row["car_id"]) == 7 and len(row["driver_id"]) == 9 for row in cars)
    # every model and colour is some car's, so each colour has its own alert counts
    assert {row["model_id"] for row in cars} == {row["model_id"] for row in models}
    assert {row["color_id"] for row in cars} == {row["color_id"] for row in colors}


def test_cars_spec_streams_the_tables_cars_and_chains_its_lookups() -> None:
    spec = load_spec(DATASETS / "cars.yaml")
    assert isinstance(spec.source, SyntheticSource)
    assert list(spec.source.tag_values["car_id"]) == [row["car_id"] for row in _car_table("cars")]
    assert [(Path(x.table).name, x.key) for x in spec.lookups] == [
        ("cars.csv", "car_id"), ("models.csv", "model_id"), ("colors.csv", "color_id"),
    ]  # fmt: skip
    for lookup in spec.lookups:
        assert Path(lookup.table).parent == DATASETS / "data" / "cars"
        assert set(lookup.added) <= set(_car_table(Path(lookup.table).stem)[0])
    assert spec.point_tags == ("car_id", "color_name")


def test_cars_rows_validate_and_a_third_fire_bad_driving() -> None:
    """The generators give the int fields ints (a float would dead-letter the row), and the
    share of rows firing the alert is the one cars.yaml documents (about 32 %)."""
    spec = load_spec(DATASETS / "cars.yaml")
    source, parser = SyntheticRows(spec.source), RowParser(spec)
    bounds = (20, 40, 60, 80, 100)
    fired, count = 0, 5000
    for _ in range(count):
        raw = source.next_row()
        assert isinstance(raw["rpm"], int) and isinstance(raw["gear"], int)
        row = parser.parse(raw).fields
        expected_gear = 1 + sum(row["speed"] >= bound for bound in bounds)
        fired += row["speed"] > 120 or row["rpm"] > 6000 or row["gear"] != expected_gear
    assert 0.28 < fired / count < 0.36
