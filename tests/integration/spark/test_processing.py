"""Pipelines by spec on real Kafka, HDFS, Spark and InfluxDB: derive, lookups, where, alerts,
aggregations and topic outputs, each compared with the same computation done independently
with pandas over the records the job read from the raw topic."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.frames import last_per_key, point_times, table
from harness.influx import InfluxLab
from harness.kafka import wait_until
from harness.streamer import (
    DATASETS,
    read_topic,
    stream_to_end,
    unique_spec,
    values,
)
from streamlab.specs import DatasetSpec, RateSpec, parse_spec

pytestmark = pytest.mark.integration

CARS_ROWS = 600
DIMENSIONS = DATASETS / "data" / "cars"


# -- cars (seed 003) -------------------------------------------------------------------------


def cars_expected(raw: pd.DataFrame) -> pd.DataFrame:
    """The cars spec's processing by hand: the dimension tables merged, expected_gear, and
    whether the row fires bad_driving."""
    cars = pd.read_csv(DIMENSIONS / "cars.csv", dtype={"car_id": str})
    rows = (
        raw.merge(cars, on="car_id", how="left")
        .merge(pd.read_csv(DIMENSIONS / "models.csv"), on="model_id", how="left")
        .merge(pd.read_csv(DIMENSIONS / "colors.csv"), on="color_id", how="left")
    )
    speed = rows["speed"]
    bands = [speed < 20, speed < 40, speed < 60, speed < 80, speed < 100]
    rows["expected_gear"] = np.select(bands, [1, 2, 3, 4, 5], 6)
    rows["fires"] = (speed > 120) | (rows["rpm"] > 6000) | (rows["gear"] != rows["expected_gear"])
    rows["window_start"] = rows["ts"].dt.floor("15min")
    return rows


ENRICHED = ["seq", "car_id", "speed", "rpm", "gear", "expected_gear", "driver_id", "model_id",
            "color_id", "brand_name", "model_name", "color_name"]  # fmt: skip
ALERT_COLUMNS = ["seq", "car_id", "driver_id", "brand_name", "model_name", "color_name",
                 "speed", "rpm", "gear", "expected_gear"]  # fmt: skip


def test_cars_example_matches_pandas(running, kafka, influx: InfluxLab) -> None:
    spec = unique_spec("cars", rate=RateSpec("rows_per_second", 2000))
    source = dataclasses.replace(spec.source, rows=CARS_ROWS)
    spec = dataclasses.replace(spec, source=source, autostart=True)
    raw = stream_to_end(kafka, spec)
    expected = cars_expected(raw)
    alerting = expected[expected["fires"]]
    assert 0 < len(alerting) < len(expected)
    groups = (
        alerting.groupby(["window_start", "color_name"])
        .agg(
            alerts=("seq", "size"),
            speed_max=("speed", "max"),
            rpm_max=("rpm", "max"),
            gear_max=("gear", "max"),
        )
        .reset_index()
    )
    counts_topic = f"{spec.name}.alert_counts"
    running(spec)

    def counted() -> list[dict[str, Any]]:
        return last_per_key(read_topic(kafka.bootstrap, counts_topic, timeout=5))

    wait_until(lambda: influx.count(spec.name) >= CARS_ROWS, 180, "the cars points")
    wait_until(lambda: sum(r["alerts"] for r in counted()) >= len(alerting), 120, "the counts")
    enriched = values(read_topic(kafka.bootstrap, spec.enriched_topic, expected=CARS_ROWS))
    alerts = values(read_topic(kafka.bootstrap, spec.alerts_topic, expected=len(alerting)))

    # the enriched stream: exactly one record per row, with the right dimension values
    pd.testing.assert_frame_equal(
        table(enriched, ENRICHED, ["seq"]), table(expected, ENRICHED, ["seq"])
    )
    # the alerts: exactly the rows meeting the rule, carrying the listed columns
    assert all(a["alert"] == "bad_driving" and a["rule"] == spec.alerts[0].when for a in alerts)
    pd.testing.assert_frame_equal(
        table(alerts, ALERT_COLUMNS, ["seq"]), table(alerting, ALERT_COLUMNS, ["seq"])
    )
    # the counts per colour and window, on the topic and in InfluxDB
    counts = pd.DataFrame(counted())
    counts["window_start"] = pd.to_datetime(counts["window_start"], utc=True)
    columns = ["window_start", "color_name", "alerts", "speed_max", "rpm_max", "gear_max"]
    by = ["window_start", "color_name"]
    pd.testing.assert_frame_equal(table(counts, columns, by), table(groups, columns, by))
    stored = [
        {**p["fields"], "color_name": p["tags"]["color_name"],
         "window_start": pd.Timestamp(p["time_ns"], unit="ns", tz="UTC")}
        for p in influx.points(f"{spec.name}_agg")
    ]  # fmt: skip
    assert {p["tags"]["aggregation"] for p in influx.points(f"{spec.name}_agg")} == {"alert_counts"}
    pd.testing.assert_frame_equal(table(stored, columns, by), table(groups, columns, by))

    # every row a point with its derived and looked-up columns (color_name a tag)
    points = influx.points(spec.name)
    got = sorted((p["time_ns"], p["tags"]["car_id"], p["tags"]["color_name"],
                  p["fields"]["expected_gear"], p["fields"]["brand_name"]) for p in points)  # fmt: skip
    want = sorted(zip(point_times(expected), expected["car_id"], expected["color_name"],
                      expected["expected_gear"], expected["brand_name"], strict=True))  # fmt: skip
    assert got == want
    assert {p["field_types"]["expected_gear"] for p in points} == {"integer"}
    fired = influx.points(f"{spec.name}_alerts")
    assert sorted(p["time_ns"] for p in fired) == sorted(point_times(alerting))
    assert all(p["fields"] == {"fired": 1} and p["tags"]["alert"] == "bad_driving" for p in fired)


# -- lookups that miss, where, sliding windows -----------------------------------------------


SHOP_ROWS = [
    # minute, store, product, amount, items
    *[(m, s, p, a, i) for m, s, p, a, i in [
        (0, "s1", "apple", 12.5, 3), (0, "s2", "pear", 60.0, 1), (0, "s3", "apple", 5.0, 2),
        (1, "s1", "melon", 20.0, 1), (1, "s1", "apple", 70.0, 0), (1, "s9", "pear", 30.0, 4),
        (2, "s2", "apple", 40.0, 2), (2, "s9", "kiwi", 8.0, 1), (3, "s3", "pear", 55.5, 5),
    ]],
]  # fmt: skip


def shop_spec(folder: Path) -> DatasetSpec:
    """Sales by store: stores looked up with on_miss keep (s9 is unknown), products with
    on_miss drop (kiwi is unknown), rows with items > 0 only, sliding minute windows."""
    # minutes of the last quarter hour: recent enough for the bucket's retention
    base = pd.Timestamp.now(tz="UTC").floor("1min") - pd.Timedelta(minutes=15)
    rows = [
        {"date": f"{base + pd.Timedelta(minutes=m):%Y-%m-%d %H:%M}", "store": s, "product": p,
         "amount": a, "items": i}
        for m, s, p, a, i in SHOP_ROWS
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / "sales.csv", index=False)
    pd.DataFrame({"store": ["s1", "s2", "s3"], "city": ["Paris", "Lyon", "Paris"],
                  "manager": ["ann", "bob", "cy"]}).to_csv(folder / "stores.csv", index=False)  # fmt: skip
    pd.DataFrame({"product": ["apple", "pear", "melon"], "category": ["fruit", "fruit", "big"]}
                 ).to_csv(folder / "products.csv", index=False)  # fmt: skip
    document = {
        "name": f"shop_{uuid.uuid4().hex[:8]}",
        "source": {"type": "csv", "path": "sales.csv", "at_end": "stop"},
        "timestamp": {"column": "date", "format": "%Y-%m-%d %H:%M"},
        "replay": {"timestamps": "original"},
        "key": "store",
        "tags": ["store"],
        "fields": {"product": "string", "amount": "float", "items": "int"},
        "derive": {"big": "amount >= 50", "cents": {"expr": "amount * 100", "type": "int"}},
        "lookups": [
            {"table": "stores.csv", "key": "store", "tags": ["city"], "columns": ["manager"]},
            {"table": "products.csv", "key": "product", "columns": ["category"], "on_miss": "drop"},
        ],
        "where": "items > 0",
        "aggregations": [
            {
                "name": "by_city",
                "window": "2 minutes",
                "slide": "1 minutes",
                "group_by": ["city"],
                "functions": ["sum", "avg", "min", "max", "approx_count_distinct"],
                "fields": ["amount", "cents"],
                "count": "sales",
            },
        ],
        "rate": {"rows_per_second": 100},
    }
    file = folder / "shop.yaml"
    file.write_text(yaml.safe_dump(document))
    return parse_spec(document, file, {})


def shop_expected(raw: pd.DataFrame, folder: Path) -> pd.DataFrame:
    rows = raw.merge(pd.read_csv(folder / "stores.csv"), on="store", how="left")
    rows = rows.merge(pd.read_csv(folder / "products.csv"), on="product", how="left")
    rows["big"], rows["cents"] = rows["amount"] >= 50, (rows["amount"] * 100).astype(int)
    rows["missed"] = rows["city"].isna() | rows["category"].isna()
    rows["kept"] = (rows["items"] > 0) & rows["category"].notna()
    return rows


def sliding_groups(kept: pd.DataFrame) -> pd.DataFrame:
    """2-minute windows every minute: each row counts in the two windows that hold it."""
    starts = [kept.assign(start=kept["ts"].dt.floor("1min") - pd.Timedelta(minutes=k))
              for k in (0, 1)]  # fmt: skip
    rows = pd.concat(starts)
    rows["city"] = rows["city"].fillna("(none)")
    return rows.groupby(["start", "city"]).agg(
        amount_sum=("amount", "sum"), amount_avg=("amount", "mean"), amount_min=("amount", "min"),
        amount_max=("amount", "max"), amount_approx_count_distinct=("amount", "nunique"),
        cents_sum=("cents", "sum"), cents_max=("cents", "max"), sales=("seq", "size"),
    ).reset_index()  # fmt: skip


def test_lookups_where_and_sliding_windows_match_pandas(
    running, kafka, influx: InfluxLab, tmp_path
) -> None:
    spec = shop_spec(tmp_path)
    raw = stream_to_end(kafka, spec)
    expected = shop_expected(raw, tmp_path)
    kept = expected[expected["kept"]]
    assert 0 < len(kept) < len(expected)
    running(spec)
    groups = sliding_groups(kept)

    def stored_sales() -> int:
        return sum(p["fields"]["sales"] for p in influx.points(f"{spec.name}_agg"))

    wait_until(lambda: influx.count(spec.name) >= len(kept), 120, "the kept rows' points")
    wait_until(lambda: stored_sales() >= groups["sales"].sum(), 120, "the sliding windows")

    points = influx.points(spec.name)
    got = sorted((p["time_ns"], p["tags"].get("city"), p["fields"].get("manager"),
                  p["fields"]["category"], p["fields"]["big"], p["fields"]["cents"])
                 for p in points)  # fmt: skip
    want = sorted(
        (t, None if pd.isna(c) else c, None if pd.isna(m) else m, g, b, n)
        for t, c, m, g, b, n in zip(point_times(kept), kept["city"], kept["manager"],
                                    kept["category"], kept["big"], kept["cents"], strict=True)
    )  # fmt: skip
    assert got == want

    stored = [
        {**p["fields"], "city": p["tags"].get("city", "(none)"),
         "start": pd.Timestamp(p["time_ns"], unit="ns", tz="UTC")}
        for p in influx.points(f"{spec.name}_agg")
    ]  # fmt: skip
    columns = list(groups.columns)
    pd.testing.assert_frame_equal(
        table(stored, columns, ["start", "city"]), table(groups, columns, ["start", "city"])
    )
    assert {p["tags"]["window"] for p in influx.points(f"{spec.name}_agg")} == {"120s"}

    sinks = [p["fields"] for p in influx.points("spark_sink", bucket="pipeline")
             if p["tags"]["dataset"] == spec.name]  # fmt: skip
    assert sum(f["lookup_misses"] for f in sinks) == int(expected["missed"].sum())
    assert sum(f["rows_dropped"] for f in sinks) == int((~expected["kept"]).sum())
    assert sum(f["points_written"] for f in sinks) == len(kept)
