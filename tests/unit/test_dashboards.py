"""Generated dataset dashboards and dashboards/*.json: structure, datasource by uid, bucket
only through a variable, and Flux that names only what the spec (or the Spark job) writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from provisioning.config import ProvisionConfig
from provisioning.dashboards import (
    BUCKET_VAR,
    DATASOURCE_UID,
    PIPELINE_BUCKET_VAR,
    UID_MAX_LENGTH,
    DashboardError,
    all_dashboards,
    dataset_dashboard,
    dataset_uid,
    load_dashboard_file,
    window_tag,
)
from streamlab.settings import Settings
from streamlab.specs import DatasetSpec, load_specs

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings.load(ROOT / "settings.env", environ={})
SPECS = load_specs(ROOT / "datasets", SETTINGS.values)
BUCKET = SETTINGS.str("INFLUX_BUCKET")
PIPELINE_BUCKET = SETTINGS.str("INFLUX_PIPELINE_BUCKET")
DEFAULTS = {BUCKET_VAR: BUCKET, PIPELINE_BUCKET_VAR: PIPELINE_BUCKET}

MEASUREMENT = re.compile(r'r\._measurement == "([^"]+)"')
FIELD = re.compile(r'r\["_field"\] == "([^"]+)"')
COLUMN = re.compile(r'r\["([^"]+)"\]|r\.([A-Za-z_]\w*)')
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}")
FROM = re.compile(r"from\(bucket: ([^)]*)\)")
BUCKET_ARG = re.compile(r"bucket: ([^,)\n]*)")
FLUX_BUILTINS = {"_measurement", "_field", "_value", "_time", "_start", "_stop"}


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def queries(model: dict[str, Any]) -> list[str]:
    """Every Flux text: panel targets and query variables."""
    texts = [t["query"] for p in model["panels"] for t in p.get("targets", [])]
    texts += [v["query"] for v in model["templating"]["list"] if v["type"] == "query"]
    return texts


def variables(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in model["templating"]["list"]}


def assert_flux_shape(text: str, bucket_var: str) -> None:
    for open_, close in ("()", "[]", "{}"):
        assert text.count(open_) == text.count(close), text
    assert text.count('"') % 2 == 0, text
    buckets = BUCKET_ARG.findall(text)
    assert buckets and set(buckets) == {f'"${{{bucket_var}}}"'}, text
    if "from(" in text:
        assert FROM.findall(text) == [f'"${{{bucket_var}}}"'], text
        assert "|> range(start: v.timeRangeStart, stop: v.timeRangeStop)" in text


def assert_datasources_by_uid(model: dict[str, Any]) -> None:
    refs = [value for key, value in walk(model) if key == "datasource"]
    assert refs
    for ref in refs:
        assert ref == {"type": "influxdb", "uid": DATASOURCE_UID}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_dataset_dashboard_structure(name: str) -> None:
    spec = SPECS[name]
    model = json.loads(json.dumps(dataset_dashboard(spec, BUCKET)))
    assert model["uid"] == dataset_uid(name) and len(model["uid"]) <= UID_MAX_LENGTH
    assert name in model["title"]
    titles = [p["title"] for p in model["panels"]]
    assert titles[: len(spec.fields)] == list(spec.field_names)
    assert len(model["panels"]) == len(spec.fields) + len(spec.aggregations)
    assert len({p["id"] for p in model["panels"]}) == len(model["panels"])
    for panel in model["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["type"] in ("timeseries", "state-timeline")
        assert [t["refId"] for t in panel["targets"]] == ["A"]
    grid = {(p["gridPos"]["x"], p["gridPos"]["y"]) for p in model["panels"]}
    assert len(grid) == len(model["panels"])  # no two panels on top of each other


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_variable_per_tag_and_the_bucket_as_a_variable(name: str) -> None:
    spec = SPECS[name]
    model = dataset_dashboard(spec, BUCKET)
    found = variables(model)
    assert set(found) == {BUCKET_VAR, *spec.tags}
    bucket = found[BUCKET_VAR]
    assert bucket["query"] == BUCKET and bucket["current"]["value"] == BUCKET
    for tag in spec.tags:
        assert found[tag]["type"] == "query" and found[tag]["multi"] and found[tag]["includeAll"]
        assert f'tag: "{tag}"' in found[tag]["query"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_only_the_datasource_uid_and_the_bucket_variable(name: str) -> None:
    model = dataset_dashboard(SPECS[name], BUCKET)
    assert_datasources_by_uid(model)
    for text in queries(model):
        assert_flux_shape(text, BUCKET_VAR)
        assert f'"{BUCKET}"' not in text


@pytest.mark.parametrize("name", sorted(SPECS))
def test_flux_names_only_the_specs_measurement_fields_and_tags(name: str) -> None:
    spec = SPECS[name]
    model = dataset_dashboard(spec, BUCKET)
    aggregate_fields = {
        f"{f}_{fn}" for a in spec.aggregations for f in a.fields for fn in a.functions
    }
    declared = set(variables(model))
    for text in queries(model):
        assert set(MEASUREMENT.findall(text)) <= {spec.name, f"{spec.name}_agg"}, text
        assert set(FIELD.findall(text)) <= set(spec.field_names) | aggregate_fields, text
        columns = {a or b for a, b in COLUMN.findall(text)} - FLUX_BUILTINS
        assert columns <= {*spec.tags, "window"}, text
        assert set(VARIABLE.findall(text)) <= declared, text
    for field in spec.fields:
        panel = next(p for p in model["panels"] if p["title"] == field.name)
        text = panel["targets"][0]["query"]
        assert FIELD.findall(text) == [field.name]
        assert MEASUREMENT.findall(text) == [spec.name]
        for tag in spec.tags:
            assert f'contains(value: r["{tag}"], set: ${{{tag}:json}})' in text


def test_aggregates_panel_reads_what_the_spark_job_writes() -> None:
    from sparkjob.derived import aggregate_columns, window_seconds

    specs_with_aggregates = [s for s in SPECS.values() if s.aggregations]
    assert specs_with_aggregates, "datasets/ should declare at least one aggregation"
    for spec in specs_with_aggregates:
        model = dataset_dashboard(spec, BUCKET)
        for agg, panel in zip(spec.aggregations, model["panels"][len(spec.fields) :], strict=True):
            text = panel["targets"][0]["query"]
            assert set(FIELD.findall(text)) == set(aggregate_columns(agg))
            assert MEASUREMENT.findall(text) == [f"{spec.name}_agg"]
            assert f'r.window == "{window_seconds(agg.window)}s"' in text
            assert window_tag(agg.window) == f"{window_seconds(agg.window)}s"


def test_field_types_get_fitting_panels() -> None:
    sensors = SPECS["sensors"]
    model = dataset_dashboard(sensors, BUCKET)
    by_title = {p["title"]: p for p in model["panels"]}
    assert by_title["status"]["type"] == "state-timeline"
    assert "fn: last" in by_title["status"]["targets"][0]["query"]
    assert "fn: mean" in by_title["temperature"]["targets"][0]["query"]


def test_a_tag_named_like_the_bucket_variable_gets_its_own_name(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "odd", tags=["bucket"])
    model = dataset_dashboard(spec, BUCKET)
    assert set(variables(model)) == {BUCKET_VAR, "tag_bucket"}
    assert "set: ${tag_bucket:json}" in model["panels"][0]["targets"][0]["query"]


def test_long_dataset_names_get_a_short_unique_uid() -> None:
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    assert len(dataset_uid(long_a)) <= UID_MAX_LENGTH
    assert dataset_uid(long_a) != dataset_uid(long_b)


# -- dashboards/*.json --------------------------------------------------------------------


def test_every_dashboard_file_is_a_usable_model() -> None:
    files = sorted((ROOT / "dashboards").glob("*.json"))
    assert files
    for path in files:
        model = load_dashboard_file(path, DEFAULTS)
        assert_datasources_by_uid(model)
        bucket_vars = {n for n in variables(model) if n in DEFAULTS}
        assert len(bucket_vars) == 1, f"{path.name}: one bucket variable"
        for text in queries(model):
            assert_flux_shape(text, next(iter(bucket_vars)))
            assert set(VARIABLE.findall(text)) <= set(variables(model)), text


def test_pipeline_dashboard_reads_what_the_spark_job_writes(monkeypatch) -> None:
    model = load_dashboard_file(ROOT / "dashboards" / "pipeline.json", DEFAULTS)
    assert model["uid"] == "streamlab-pipeline" and model["title"] == "Pipeline"
    pipeline_var = variables(model)[PIPELINE_BUCKET_VAR]
    assert pipeline_var["current"]["value"] == PIPELINE_BUCKET
    written = _pipeline_points(monkeypatch)
    for text in queries(model):
        measurements = MEASUREMENT.findall(text)
        assert len(measurements) == 1 and measurements[0] in written, text
        tags, fields = written[measurements[0]]
        assert set(FIELD.findall(text)) <= fields, text
        columns = {a or b for a, b in COLUMN.findall(text)} - FLUX_BUILTINS
        assert columns <= tags, text
        assert f'"{PIPELINE_BUCKET}"' not in text


def test_bucket_defaults_come_from_the_settings() -> None:
    model = load_dashboard_file(
        ROOT / "dashboards" / "pipeline.json", {**DEFAULTS, PIPELINE_BUCKET_VAR: "metrics"}
    )
    var = variables(model)[PIPELINE_BUCKET_VAR]
    assert var["query"] == "metrics" and var["current"]["value"] == "metrics"


def test_all_dashboards_refuses_duplicated_uids(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"uid": "dataset-temps", "title": "A"}))
    with pytest.raises(DashboardError, match="dataset-temps"):
        all_dashboards(SPECS, tmp_path, DEFAULTS)
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(DashboardError, match=r"a\.json"):
        all_dashboards(SPECS, tmp_path, DEFAULTS)


def test_all_dashboards_is_files_then_datasets() -> None:
    config = ProvisionConfig.from_settings(SETTINGS)
    models = all_dashboards(SPECS, config.grafana.dashboards_dir, DEFAULTS)
    uids = [m["uid"] for m in models]
    assert uids[0] == "streamlab-pipeline"
    assert uids[1:] == [dataset_uid(n) for n in SPECS]


# -- helpers ------------------------------------------------------------------------------


def _pipeline_points(monkeypatch) -> dict[str, tuple[set[str], set[str]]]:
    """Measurement -> (tags, fields) as the Spark job's progress listener and sinks write."""
    from sparkjob import progress
    from sparkjob.sinks import pipeline_line

    lines: list[str] = []
    monkeypatch.setattr(progress, "write_lines", lambda target, batch: lines.extend(batch))
    source = SimpleNamespace(metrics={"maxOffsetsBehindLatest": "3"})
    event = SimpleNamespace(
        progress=SimpleNamespace(
            name="temps.sinks", id="q", batchId=4, numInputRows=10, batchDuration=12,
            inputRowsPerSecond=5.0, processedRowsPerSecond=6.0,
            durationMs={"triggerExecution": 11}, sources=[source],
        )
    )  # fmt: skip
    progress.PipelineListener(None).onQueryProgress(event)
    ctx = SimpleNamespace(spec=SimpleNamespace(name="temps"))
    lines.append(pipeline_line(ctx, 4, 10, [5, 7, 9]))
    points = {}
    for text in lines:
        key, field_text, _ = text.split(" ")
        measurement, *tags = key.split(",")
        fields = {f.split("=")[0] for f in field_text.split(",")}
        points[measurement] = ({t.split("=")[0] for t in tags}, fields)
    return points


def _spec(tmp_path: Path, name: str, tags: list[str]) -> DatasetSpec:
    from streamlab.specs import load_spec

    path = tmp_path / f"{name}.yaml"
    tag_values = "\n".join(f"    {t}: [a, b]" for t in tags)
    path.write_text(
        f"name: {name}\nsource:\n  type: synthetic\n  tag_values:\n{tag_values}\n"
        "  generators:\n    value: {kind: uniform, low: 0, high: 1}\n"
        f"tags: [{', '.join(tags)}]\nfields:\n  value: float\n"
    )
    return load_spec(path)
