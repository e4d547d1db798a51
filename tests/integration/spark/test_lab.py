"""streamlab.lab, the module for users' jobs, and the jobs in jobs/examples, on real Kafka,
HDFS, Spark and InfluxDB; each result compared with pandas over the same input."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession

from harness.frames import last_per_key, table
from harness.influx import DATA_BUCKET, InfluxLab
from harness.kafka import wait_until
from harness.spark import kafka_frame
from harness.streamer import (
    DATASETS,
    csv_spec,
    feed_documents,
    http_example,
    new_versions,
    read_topic,
    stream_to_end,
    unique_spec,
)
from streamlab import lab
from streamlab.influx import InfluxTarget
from streamlab.settings import Settings
from streamlab.spark.parsing import parse, valid_rows

pytestmark = pytest.mark.integration

JOBS = Path(__file__).resolve().parents[3] / "jobs" / "examples"


def job_module(name: str) -> ModuleType:
    """A job of jobs/examples imported as a module (a job is a file, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", JOBS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def stack(kafka, hdfs, influx: InfluxLab, tmp_path) -> lab.Stack:
    """The stack as ./submit.sh describes it to a job, pointing at the test servers."""
    root = f"{hdfs.uri}/lab/{tmp_path.name}"
    settings = Settings({"KAFKA_REPLICATION_FACTOR": "1"})
    target = InfluxTarget(influx.url, "streamlab", DATA_BUCKET, influx.write_token, batch_size=50)
    return lab.Stack(kafka.bootstrap, f"{root}/raw", f"{root}/checkpoints", f"{root}/curated",
                     DATASETS, target, settings)  # fmt: skip


def run_to_end(frame: DataFrame, name: str, checkpoint: str, output_mode: str = "append"):
    """A stream's rows so far through foreachBatch into memory, once (availableNow)."""
    batches: list[pd.DataFrame] = []
    query = (
        frame.writeStream.outputMode(output_mode)
        .foreachBatch(lambda batch, _: batches.append(batch.toPandas()))
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .queryName(name)
        .start()
    )
    query.awaitTermination(120)
    return pd.concat(batches, ignore_index=True) if batches else pd.DataFrame()


def test_read_stream_gives_the_spec_s_typed_valid_rows(
    spark: SparkSession, kafka, stack: lab.Stack, tmp_path
) -> None:
    rows = [{"date": f"2010-01-01 0{i % 10}:00", "station": f"s{i % 3}", "temp_f": f"{i}.5"}
            for i in range(30)]  # fmt: skip
    spec = csv_spec(tmp_path, rows, rate=1000)
    sent = stream_to_end(kafka, spec)
    stream = lab.read_stream(spark, spec, "earliest", where=stack)
    got = run_to_end(stream, f"lab_read_{spec.name}", lab.checkpoint(f"read-{spec.name}", stack))
    assert dict(stream.dtypes)["temp_f"] == "double"
    assert sorted(zip(got["seq"], got["station"], got["temp_f"], strict=True)) == sorted(
        zip(sent["seq"], sent["station"], sent["temp_f"].astype(float), strict=True)
    )
    assert stack.checkpoint_uri in lab.checkpoint(f"read-{spec.name}", stack)


def test_write_influx_is_idempotent_and_write_topic_sends_json(
    spark: SparkSession, kafka, influx: InfluxLab, stack: lab.Stack
) -> None:
    # In the past: a Flux range stops at now(), so a point a second ahead may not show yet.
    now = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=1)
    frame = spark.createDataFrame(
        pd.DataFrame(
            {
                "station": ["a", "b", "a"],
                "bikes": [3, 5, 4],
                "ts": [now, now, now + pd.Timedelta(seconds=1)],
            }
        )
    )
    measurement = f"lab_{int(time.time() * 1000)}"
    assert lab.write_influx(frame, measurement, ["station"], ["bikes"], where=stack) == 3
    assert lab.write_influx(frame, measurement, ["station"], ["bikes"], where=stack) == 3
    points = influx.points(measurement)
    assert sorted((p["tags"]["station"], p["fields"]["bikes"]) for p in points) == [
        ("a", 3), ("a", 4), ("b", 5)
    ]  # fmt: skip
    assert {p["field_types"]["bikes"] for p in points} == {"integer"}

    topic = f"{measurement}.out"
    assert lab.ensure_topic(topic, where=stack) is True
    assert lab.ensure_topic(topic, where=stack) is False
    lab.write_topic(frame.drop("ts"), topic, key="station", where=stack)
    records = read_topic(kafka.bootstrap, topic, expected=3)
    assert sorted((r.key.decode(), json.loads(r.value)["bikes"]) for r in records) == [
        ("a", 3), ("a", 4), ("b", 5)
    ]  # fmt: skip


def test_template_counts_rows_per_minute_into_influx(
    spark: SparkSession, kafka, influx: InfluxLab, stack: lab.Stack
) -> None:
    template = job_module("template")
    spec = unique_spec("sensors")
    spec = dataclasses.replace(spec, source=dataclasses.replace(spec.source, rows=120),
                               autostart=True)  # fmt: skip
    sent = stream_to_end(kafka, spec)
    counts = template.per_minute(lab.read_stream(spark, spec, "earliest", where=stack), ["sensor"])
    measurement = f"{spec.name}_per_minute"
    query = (
        counts.writeStream.outputMode("update")
        .foreachBatch(lambda b, _: lab.write_influx(b, measurement, ["sensor"], ["rows"], where=stack))
        .option("checkpointLocation", lab.checkpoint(f"template-{spec.name}", stack))
        .trigger(availableNow=True)
        .start()
    )  # fmt: skip
    query.awaitTermination(120)
    sent["minute"] = sent["ts"].dt.floor("1min")
    expected = sent.groupby(["minute", "sensor"]).size().reset_index(name="rows")
    stored = [{"minute": pd.Timestamp(p["time_ns"], unit="ns", tz="UTC"),
               "sensor": p["tags"]["sensor"], "rows": p["fields"]["rows"]}
              for p in influx.points(measurement)]  # fmt: skip
    columns, by = ["minute", "sensor", "rows"], ["minute", "sensor"]
    pd.testing.assert_frame_equal(table(stored, columns, by), table(expected, columns, by))


DAYS = [(pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=d)).strftime("%Y-%m-%d") for d in (1, 0)]


def idfm_raw_layer(spark: SparkSession, stack: lab.Stack) -> pd.DataFrame:
    """An idfm_stops raw layer, as the job writes it, where every visit came twice (two
    polls saw it) and one poll's record was sent again: 2 x 4 + 1 rows, over yesterday
    and today (the KPI points must be within the bucket's retention)."""
    spec = lab.spec("idfm_stops", stack)
    records = []
    for poll in range(2):
        for i in range(4):
            day = DAYS[i % 2]
            records.append({
                "ts": f"{day}T00:0{poll}:00.000000Z", "seq": poll * 10 + i,
                "original_ts": f"{day}T00:1{i}:00.000000Z", "sent_ms": 0,
                "line": f"L{i % 2}", "stop": "Gare", "direction": "Nord",
                "aimed_departure": f"{day}T00:1{i}:00.000Z",
                "departure_status": "onTime", "destination": "Ici", "item": f"v{i}",
                "source": "{}",
            })  # fmt: skip
    records.append({**records[0], "seq": 99})
    frame = valid_rows(parse(kafka_frame(spark, [json.dumps(r) for r in records]), spec), spec)
    frame.write.partitionBy("date").parquet(lab.raw_layer_path("idfm_stops", stack))
    return pd.DataFrame(records)


def test_curated_keeps_one_row_per_key_and_time_and_reruns_change_nothing(
    spark: SparkSession, influx: InfluxLab, stack: lab.Stack, monkeypatch
) -> None:
    curated = job_module("curated")
    monkeypatch.setattr(lab, "stack", lambda: stack)
    raw = idfm_raw_layer(spark, stack)

    def curated_rows() -> pd.DataFrame:
        frame = spark.read.parquet(curated.curated_path("idfm_stops")).toPandas()
        return frame.sort_values(["line", "event_time"]).reset_index(drop=True)

    curated.main("idfm_stops")
    first, kpis = curated_rows(), influx.points("idfm_stops_curated")
    curated.main("idfm_stops")
    pd.testing.assert_frame_equal(curated_rows(), first)
    assert sorted(map(str, influx.points("idfm_stops_curated"))) == sorted(map(str, kpis))

    distinct = raw.drop_duplicates(["line", "stop", "direction", "original_ts"])
    assert len(first) == len(distinct) == 4
    assert sorted(zip(first["line"], first["item"], strict=True)) == sorted(
        zip(distinct["line"], distinct["item"], strict=True)
    )
    by_date = {p["tags"]["date"]: p["fields"] for p in kpis}
    assert by_date == {
        DAYS[0]: {"rows_read": 5, "rows_kept": 2, "duplicates": 3},
        DAYS[1]: {"rows_read": 4, "rows_kept": 2, "duplicates": 2},
    }


def test_velib_indicators_by_hand_equal_the_spec_declared_ones(
    spark: SparkSession, running, kafka, stack: lab.Stack
) -> None:
    by_hand = job_module("velib_indicators")
    snapshots = feed_documents("velib")
    spec, _, _ = http_example(kafka, "velib", snapshots, new_versions(snapshots))
    running(spec)  # the main job: the spec-declared aggregation to <dataset>.indicators
    rows = lab.read_stream(spark, spec, "earliest", where=stack)
    records = by_hand.indicators(rows, by_hand.stations(spark, stack))
    mine = run_to_end(records, f"by_hand_{spec.name}", lab.checkpoint(f"vi-{spec.name}", stack),
                      "update")  # fmt: skip
    latest = {key: value for key, value in zip(mine["key"], mine["value"], strict=True)}
    hand = [json.loads(v) for v in latest.values()]

    def declared() -> list[dict]:
        return last_per_key(read_topic(kafka.bootstrap, f"{spec.name}.indicators", timeout=5))

    wait_until(lambda: len(declared()) >= len(hand), 120, "the spec-declared indicators")
    columns = [c for c in hand[0] if c != "dataset"]
    spec_records = [{**r, "dataset": "velib"} for r in declared()]
    assert {r["dataset"] for r in hand} == {"velib"}
    by = ["window_start", "postcode", "name"]
    pd.testing.assert_frame_equal(table(hand, columns, by), table(spec_records, columns, by))
