"""The seeds' examples end to end on real Kafka, HDFS, Spark and InfluxDB: idfm_stops' raw
layer keeps each record as received (keep_source), every valid visit becomes a point with
its delay, and the delays per line and velib's indicators per station equal pandas' over
the raw topic."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from harness.frames import last_per_key, point_times, table
from harness.influx import InfluxLab
from harness.kafka import wait_until
from harness.streamer import (
    DATASETS,
    feed_documents,
    http_example,
    new_versions,
    read_topic,
    stream_to_end,
    unique_spec,
)
from streamlab.specs import RateSpec

pytestmark = pytest.mark.integration

VALID_VISITS = 464


def test_idfm_stops_source_record_delays_and_delays_per_line(
    spark, running, kafka, influx: InfluxLab
) -> None:
    spec = unique_spec("idfm_stops", rate=RateSpec("rows_per_second", 5000))
    spec = dataclasses.replace(spec, source=dataclasses.replace(spec.source, at_end="stop"))
    raw = stream_to_end(kafka, spec)
    config = running(spec)
    parquet = lambda: spark.read.parquet(config.raw_path(spec.name))  # noqa: E731
    wait_until(lambda: influx.count(spec.name) >= VALID_VISITS, 120, "the points")
    wait_until(lambda: parquet().count() >= VALID_VISITS, 120, "the raw layer")
    rows = parquet().collect()
    assert len(rows) == VALID_VISITS
    for row in rows:
        record = json.loads(row["source"])
        assert record["ItemIdentifier"] == row["item"]
        journey = record["MonitoredVehicleJourney"]
        assert journey["LineRef"]["value"] == row["line"]
        assert journey["MonitoredCall"]["AimedDepartureTime"] == row["aimed_departure"]
    points = influx.points(spec.name)
    assert len(points) == VALID_VISITS
    assert {p["tags"]["stop"] for p in points} == {r["stop"] for r in rows}
    assert all(p["field_types"]["departure_status"] == "string" for p in points)

    # delay_s = expected minus aimed departure, and its average and maximum per line and
    # 5 minutes (by send time)
    aimed = pd.to_datetime(raw["aimed_departure"], utc=True)
    raw["delay_s"] = (pd.to_datetime(raw["original_ts"], utc=True) - aimed).dt.total_seconds()
    got = sorted((p["time_ns"], p["fields"]["delay_s"]) for p in points)
    assert got == sorted(zip(point_times(raw), raw["delay_s"].astype(int), strict=True))
    assert raw["delay_s"].max() > 0
    raw["window_start"] = raw["ts"].dt.floor("5min")
    delays = raw.groupby(["window_start", "line"]).agg(
        delay_s_avg=("delay_s", "mean"), delay_s_max=("delay_s", "max")
    ).reset_index()  # fmt: skip

    def stored() -> list[dict]:
        return [
            {**p["fields"], "line": p["tags"]["line"],
             "window_start": pd.Timestamp(p["time_ns"], unit="ns", tz="UTC")}
            for p in influx.points(f"{spec.name}_agg")
        ]  # fmt: skip

    wait_until(lambda: len(stored()) >= len(delays), 60, "the delays per line")
    columns, by = list(delays.columns), ["window_start", "line"]
    pd.testing.assert_frame_equal(table(stored(), columns, by), table(delays, columns, by))


def test_velib_indicators_per_station_match_pandas(running, kafka, influx: InfluxLab) -> None:
    snapshots = feed_documents("velib")
    spec, _, rows = http_example(kafka, "velib", snapshots, new_versions(snapshots))
    raw = pd.DataFrame(rows)
    raw["ts"] = pd.to_datetime(raw["ts"], utc=True)
    stations = pd.read_csv(DATASETS / "data" / "velib_stations.csv", dtype={"station_id": str})
    raw = raw.merge(stations[["station_id", "name", "postcode"]], on="station_id", how="left")
    assert raw["name"].notna().all()
    raw["window_start"] = raw["ts"].dt.floor("1min")
    fields = ["bikes", "mechanical", "ebike"]
    groups = raw.groupby(["window_start", "postcode", "name"]).agg(
        **{f"{f}_{fn}": (f, fn) for f in fields for fn in ("last", "max")}
    ).reset_index()  # fmt: skip
    topic = f"{spec.name}.indicators"
    running(spec)

    def indicators() -> list[dict]:
        return last_per_key(read_topic(kafka.bootstrap, topic, timeout=5))

    wait_until(lambda: len(indicators()) >= len(groups), 120, "the indicators")
    wait_until(lambda: influx.count(spec.name) >= len(raw), 60, "the velib points")
    columns, by = list(groups.columns), ["window_start", "postcode", "name"]
    got = pd.DataFrame(indicators())
    got["window_start"] = pd.to_datetime(got["window_start"], utc=True)
    pd.testing.assert_frame_equal(table(got, columns, by), table(groups, columns, by))
    assert {p["tags"]["name"] for p in influx.points(spec.name)} == set(raw["name"])
