"""The four shipped examples (one per seed source) through the real streamer and broker.

Each test computes what `<dataset>.raw` must hold from the example's data on its own
(plain json, gzip and pandas, no JMESPath and no streamer code) and compares it with what
the broker holds: the rows, values reached through paths, the filtered count, the source
record where the spec keeps it and each dead letter's reason.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from typing import Any

import pandas as pd
import pytest

from harness.streamer import (
    DATASETS,
    StreamerServer,
    create_topics,
    feed_documents,
    http_example,
    read_topic,
    streamer_config,
    unique_spec,
    values,
)
from streamlab.specs import RateSpec

pytestmark = pytest.mark.integration

FAST = RateSpec("rows_per_second", 5000)


def _run_file_example(kafka, name: str) -> tuple[Any, dict, list[dict], list[dict]]:
    """Streams a file example to its end; returns spec, status, rows and dead letters."""
    spec = unique_spec(name, rate=FAST)
    spec = dataclasses.replace(spec, source=dataclasses.replace(spec.source, at_end="stop"))
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        status = server.wait_for(spec.name, lambda s: s["state"] == "finished", 60)
        status = server.wait_for(spec.name, lambda s: s["rows_unacked"] == 0, 30)
    rows = values(read_topic(kafka.bootstrap, spec.raw_topic, expected=status["rows_acked"]))
    dead = values(read_topic(kafka.bootstrap, spec.deadletter_topic, status["rows_deadlettered"]))
    return spec, status, rows, dead


def _visits() -> list[dict]:
    with gzip.open(DATASETS / "data" / "idfm_stops.jsonl.gz", "rt") as lines:
        documents = [json.loads(line) for line in lines if line.strip()]
    return [
        visit
        for doc in documents
        for delivery in doc["Siri"]["ServiceDelivery"]["StopMonitoringDelivery"]
        for visit in delivery.get("MonitoredStopVisit", [])
    ]


def _complete(visit: dict) -> bool:
    journey = visit["MonitoredVehicleJourney"]
    call = journey["MonitoredCall"]
    return (
        "LineRef" in journey
        and bool(call.get("StopPointName"))
        and call.get("ExpectedDepartureTime", "unknown") != "unknown"
    )


def test_idfm_stops_one_row_per_visit_with_its_source(kafka) -> None:
    _, status, rows, dead = _run_file_example(kafka, "idfm_stops")
    visits = _visits()
    good = [v for v in visits if _complete(v)]
    expected = sorted(
        (
            v["ItemIdentifier"],
            v["MonitoredVehicleJourney"]["LineRef"]["value"],
            v["MonitoredVehicleJourney"]["MonitoredCall"]["StopPointName"][0]["value"],
            v["MonitoredVehicleJourney"]["MonitoredCall"]["AimedDepartureTime"],
            v["MonitoredVehicleJourney"]["MonitoredCall"]["DepartureStatus"],
        )
        for v in good
    )
    got = sorted(
        (r["item"], r["line"], r["stop"], r["aimed_departure"], r["departure_status"]) for r in rows
    )
    assert got == expected and len(got) == 464
    canonical = lambda record: json.dumps(record, sort_keys=True)  # noqa: E731
    sources = sorted(canonical(json.loads(r["source"])) for r in rows)
    assert sources == sorted(canonical(v) for v in good)  # what was received, as received
    assert all(r["original_ts"].startswith("2024-03-12T") for r in rows)
    reasons = sorted(d["reason"] for d in dead)
    assert status["rows_deadlettered"] == len(visits) - len(good) == 4
    assert reasons == [
        "tag 'line' is missing: path 'MonitoredVehicleJourney.LineRef.value' found nothing",
        "tag 'stop' is missing: path "
        "'MonitoredVehicleJourney.MonitoredCall.StopPointName[0].value' found nothing",
        "timestamp 'expected_departure'='unknown' does not match format 'iso8601'",
        "timestamp column 'expected_departure' is missing: path "
        "'MonitoredVehicleJourney.MonitoredCall.ExpectedDepartureTime' found nothing",
    ]


def test_meteo_31_semicolon_gzip_csv_by_column_names(kafka) -> None:
    _, status, rows, dead = _run_file_example(kafka, "meteo_31")
    frame = pd.read_csv(DATASETS / "data" / "meteo_31.csv.gz", sep=";", dtype=str)
    assert status["rows_deadlettered"] == 0 and not dead
    assert len(rows) == len(frame) == 502
    columns = {"temp_c": "T", "temp_min_c": "TN", "rain_mm": "RR1", "pressure_hpa": "PSTAT"}
    for field, column in columns.items():
        expected = sorted(
            (station, hour, float(value))
            for station, hour, value in zip(
                frame["NOM_USUEL"], frame["AAAAMMJJHH"], frame[column], strict=True
            )
            if isinstance(value, str)
        )
        got = sorted((r["station"], _hour(r["original_ts"]), r[field]) for r in rows if field in r)
        assert got == expected, field
    assert not any("temp_c" in r for r in rows if r["station"] == "nowhere")


def _hour(iso: str) -> str:
    return iso[:4] + iso[5:7] + iso[8:10] + iso[11:13]


def test_velib_two_stations_with_nested_bike_types(kafka) -> None:
    snapshots = feed_documents("velib")
    seen: dict[int, int] = {}
    expected, filtered, new = [], 0, []
    for snapshot in snapshots:  # new versions only (dedupe), then the filter
        new.append(0)
        for station in snapshot["data"]["stations"]:
            if seen.get(station["station_id"]) == station["last_reported"]:
                continue
            seen[station["station_id"]] = station["last_reported"]
            new[-1] += 1
            if station["stationCode"] not in ("16107", "32017"):
                filtered += 1
                continue
            types = station["num_bikes_available_types"]
            expected.append(
                (station["stationCode"], station["last_reported"], station["num_bikes_available"],
                 types[0]["mechanical"], types[1]["ebike"])
            )  # fmt: skip
    _, status, rows = http_example(kafka, "velib", snapshots, new)
    got = [
        (r["station_code"], _epoch(r["original_ts"]), r["bikes"], r["mechanical"], r["ebike"])
        for r in rows
    ]
    assert sorted(got) == sorted(expected), (sorted(got), sorted(expected))
    assert len(got) == 15  # 16107 in each of the 10 snapshots, 32017 in every other
    assert status["rows_filtered"] == filtered and status["rows_deadlettered"] == 0
    assert all(r["mechanical"] + r["ebike"] == r["bikes"] for r in rows)


def _epoch(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def test_users_nested_records_from_a_polled_api(kafka) -> None:
    pages = feed_documents("users")
    spec, status, rows = http_example(kafka, "users", pages, [len(p["results"]) for p in pages])
    users = [user for page in pages for user in page["results"]]
    expected = sorted(
        (u["login"]["username"], u["dob"]["age"], u["location"]["city"], u["nat"],
         float(u["location"]["coordinates"]["latitude"]))
        for u in users
    )  # fmt: skip
    got = sorted((r["username"], r["age"], r["city"], r["nat"], r["latitude"]) for r in rows)
    assert got == expected and len(got) == 100
    keys = {r.key.decode() for r in read_topic(kafka.bootstrap, spec.raw_topic, len(rows))}
    assert keys == {u["login"]["uuid"] for u in users}
    assert status["rows_deadlettered"] == 0 and status["rows_filtered"] == 0
