"""A spec's expression mistakes, each refused by Spark's own parser or analyzer when the job
builds the dataset's queries, with a message naming the file, the key, the expression and
Spark's reason; the job then starts the other datasets and reports the refused one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.influx import InfluxLab
from harness.spark import settings_job_config
from harness.streamer import DATASETS, create_topics, unique_spec
from sparkjob.config import JobConfig
from sparkjob.expressions import ExpressionError
from sparkjob.job import start
from sparkjob.queries import plan_dataset
from streamlab.spec_processing import Aggregation, Alert, Derived, Lookup
from streamlab.specs import DatasetSpec

pytestmark = pytest.mark.integration

STATIONS = str(DATASETS / "data" / "velib_stations.csv")


def config(tmp: Path, bootstrap: str = "127.0.0.1:9", influx_url: str = "") -> JobConfig:
    return settings_job_config(
        datasets_dir=tmp, master="local[2]", kafka_bootstrap=bootstrap,
        raw_layer_uri=(tmp / "raw").as_uri(), checkpoint_uri=(tmp / "checkpoints").as_uri(),
        influx_url=influx_url or "http://127.0.0.1:9", influx_org="streamlab",
        influx_bucket="streamlab", pipeline_bucket="pipeline", token_file=tmp / "unused.token",
    )  # fmt: skip


def temps(**changes) -> DatasetSpec:
    """temps (tags station; field temp_f), with processing keys changed."""
    return dataclasses.replace(unique_spec("temps"), **changes)


def lookup(**changes) -> Lookup:
    base = Lookup("stations", STATIONS, "csv", "station", "station_id", ("name",))
    return dataclasses.replace(base, **changes)


MISTAKES = {
    "syntax": (
        temps(derived=(Derived("temp_c", "(temp_f - 32) */ 1.8"),)),
        "derive.temp_c", "(temp_f - 32) */ 1.8", "PARSE_SYNTAX_ERROR",
    ),
    "unknown column": (
        temps(derived=(Derived("temp_c", "(temp_g - 32) / 1.8"),)),
        "derive.temp_c", "(temp_g - 32) / 1.8", "UNRESOLVED_COLUMN",
    ),
    "unknown function": (
        temps(derived=(Derived("temp_c", "celsius(temp_f)"),)),
        "derive.temp_c", "celsius(temp_f)", "UNRESOLVED_ROUTINE",
    ),
    "where not a condition": (
        temps(where="temp_f + 1"),
        "where", "temp_f + 1", "the expression gives double",
    ),
    "when not a condition": (
        temps(alerts=(Alert("hot", when="temp_f * 2"),)),
        "alerts[0].when", "temp_f * 2", "the expression gives double",
    ),
    "when with a syntax error": (
        temps(alerts=(Alert("hot", when="temp_f > 80 OR ("),)),
        "alerts[0].when", "temp_f > 80 OR (", "PARSE_SYNTAX_ERROR",
    ),
    "aggregate of the wrong type": (
        temps(
            derived=(Derived("readings", "array(temp_f)"),),
            aggregations=(Aggregation("1 minutes", ("avg",), ("readings",), "bad"),),
        ),
        "aggregations[0]", "readings_avg", "DATATYPE_MISMATCH",
    ),
    "lookup column the table lacks": (
        temps(lookups=(lookup(columns=("city",)),)),
        "lookups[0]", STATIONS, "the table has no column 'city'",
    ),
    "lookup table unreadable": (
        temps(lookups=(lookup(format="parquet"),)),
        "lookups[0].table", STATIONS, "cannot read the table",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_each_mistake_names_file_key_expression_and_reason(spark, tmp_path, mistake) -> None:
    spec, key, expression, reason = MISTAKES[mistake]
    with pytest.raises(ExpressionError) as caught:
        plan_dataset(spark, spec, config(tmp_path))
    message = str(caught.value)
    assert message.startswith(f"{spec.file}: {key}: Spark refuses the expression ")
    assert expression in message and reason in message
    assert "\n" not in message  # Spark's first line, not its query plan


def test_a_refused_dataset_does_not_start_and_the_others_run(
    spark, kafka, influx: InfluxLab, tmp_path
) -> None:
    good = temps()
    bad = temps(where="temp_f +")
    create_topics(kafka, good)
    job = config(tmp_path, kafka.bootstrap, influx.url)
    queries = start(spark, {good.name: good, bad.name: bad}, job, influx.write_token)
    try:
        names = {q.name for q in queries}
        assert all(q.isActive for q in queries)
    finally:
        for query in queries:
            query.stop()
    assert names == {f"{good.name}.raw_layer", f"{good.name}.sinks", f"{good.name}.agg0"}
    states = {
        p["tags"]["dataset"]: p["fields"] for p in influx.points("spark_dataset", bucket="pipeline")
    }
    assert states[good.name] == {"queries": 3, "failed": 0}
    assert states[bad.name]["failed"] == 1 and states[bad.name]["queries"] == 0
    assert states[bad.name]["error"].startswith(f"{bad.file}: where: Spark refuses")
