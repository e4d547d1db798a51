"""Generated dataset dashboards and dashboards/*.json: structure, datasource by uid, bucket
only through a variable, and Flux that names only what is written: the specs, the Spark
job's code (points, aggregates, alerts, progress) and pipeline_schema (the metrics collector
and the streamer). The queries are read, not eyeballed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from influxdb_client import Point

from doubles.grafana.api_dashboards import shape_problem
from provisioning.config import ProvisionConfig
from provisioning.dashboards import (
    BUCKET_VAR,
    BUILT_IN_ANNOTATIONS,
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
from sparkjob import series
from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.settings import Settings
from streamlab.specs import DatasetSpec, load_specs

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings.load(ROOT / "settings.env", environ={})
SPECS = load_specs(ROOT / "datasets", SETTINGS.values)
BUCKET = SETTINGS.str("INFLUX_BUCKET")
PIPELINE_BUCKET = SETTINGS.str("INFLUX_PIPELINE_BUCKET")
DEFAULTS = {BUCKET_VAR: BUCKET, PIPELINE_BUCKET_VAR: PIPELINE_BUCKET}
PIPELINE_FILE = ROOT / "dashboards" / "pipeline.json"
DASHBOARD_FILES = sorted((ROOT / "dashboards").glob("*.json"))

MEASUREMENT = re.compile(r'r\._measurement == "([^"]+)"')
FIELD = re.compile(r'r\["_field"\] == "([^"]+)"')
COLUMN = re.compile(r'\br\["([^"]+)"\]|\br\.([A-Za-z_]\w*)')
# Columns named as arguments: keep/group/sort columns, pivot keys, last(column: ...).
COLUMN_LISTS = re.compile(r"\b(?:columns|rowKey|columnKey): \[([^\]]*)\]")
COLUMN_ARGS = re.compile(r'\b(?:valueColumn|column): "([^"]+)"')
# Columns a query makes itself: map(fn: (r) => ({r with name: ..., name: ...})).
MADE = re.compile(r"(?:\{r with |, )([A-Za-z_]\w*): ")
TAG_ARG = re.compile(r'\btag: "([^"]+)"')
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
FROM = re.compile(r"from\(bucket: ([^)]*)\)")
BUCKET_ARG = re.compile(r"bucket: ([^,)\n]*)")
FLUX_BUILTINS = {"_measurement", "_field", "_value", "_time", "_start", "_stop"}
# Grafana's own variables and Flux's v.* are not dashboard variables.
GRAFANA_VARIABLES = re.compile(r"^__|^(?:timeFilter|interval)$")
PANEL_TYPES = {"timeseries", "state-timeline", "stat", "table", "row"}

Written = dict[str, tuple[set[str], set[str]]]  # measurement -> (tags, fields)


# -- reading a model ----------------------------------------------------------------------


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows and the panels of collapsed rows included."""
    found = []
    for panel in model["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return found


def annotations(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The annotation queries, without Grafana's built-in one."""
    return [a for a in model["annotations"]["list"] if not a.get("builtIn")]


def panel_queries(model: dict[str, Any]) -> list[str]:
    return [t["query"] for p in panels(model) for t in p.get("targets", [])]


def queries(model: dict[str, Any]) -> list[str]:
    """Every Flux text: panel targets, query variables and annotations."""
    texts = panel_queries(model)
    texts += [v["query"] for v in model["templating"]["list"] if v["type"] == "query"]
    texts += [a["target"]["query"] for a in annotations(model)]
    return texts


def variables(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in model["templating"]["list"]}


def referenced_variables(text: str) -> set[str]:
    names = {a or b for a, b in VARIABLE.findall(text)}
    return {n for n in names if not GRAFANA_VARIABLES.match(n)}


def columns_named(text: str) -> set[str]:
    names = {a or b for a, b in COLUMN.findall(text)}
    for listed in COLUMN_LISTS.findall(text):
        names |= set(re.findall(r'"([^"]+)"', listed))
    return names | set(COLUMN_ARGS.findall(text))


# -- checks -------------------------------------------------------------------------------


def assert_flux_shape(text: str, bucket_var: str) -> None:
    """What InfluxDB 2.7 needs and the dashboards rely on, short of running Flux."""
    for open_, close in ("()", "[]", "{}"):
        assert text.count(open_) == text.count(close), text
    assert text.count('"') % 2 == 0, text
    buckets = BUCKET_ARG.findall(text)
    assert buckets and set(buckets) == {f'"${{{bucket_var}}}"'}, text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    imports = [i for i, line in enumerate(lines) if line.startswith("import ")]
    assert imports == list(range(len(imports))), f"imports come first:\n{text}"
    if "from(" in text:
        assert FROM.findall(text) == [f'"${{{bucket_var}}}"'], text
        start = lines[len(imports) :][:3]
        assert start[0].startswith("from(bucket: "), text
        assert start[1] == "|> range(start: v.timeRangeStart, stop: v.timeRangeStop)", text
        assert start[2].startswith("|> filter(fn: (r) => r._measurement == "), text
        assert all(line.startswith("|> ") for line in lines[len(imports) + 1 :]), text
    for window in re.findall(r"aggregateWindow\([^)]*\)", text):
        assert "createEmpty: false" in window, text


def assert_reads_only_what_is_written(text: str, written: Written) -> None:
    """Measurements, fields, tags and columns of a query are all written by someone."""
    measurements = set(MEASUREMENT.findall(text))
    assert measurements, f"no measurement named:\n{text}"
    assert measurements <= set(written), f"{measurements - set(written)} not written:\n{text}"
    tags = set().union(*(written[m][0] for m in measurements))
    fields = set().union(*(written[m][1] for m in measurements))
    assert set(FIELD.findall(text)) <= fields, f"{set(FIELD.findall(text)) - fields}:\n{text}"
    assert set(TAG_ARG.findall(text)) <= tags, text
    known = FLUX_BUILTINS | tags | fields | set(MADE.findall(text))
    unknown = columns_named(text) - known
    assert not unknown, f"columns {unknown} are neither written nor made here:\n{text}"


def assert_datasources_by_uid(model: dict[str, Any]) -> None:
    """Every datasource is ours, by uid, except the built-in annotation's own."""
    builtin = [a for a in model["annotations"]["list"] if a.get("builtIn")]
    assert builtin == [BUILT_IN_ANNOTATIONS]
    ours = {**model, "annotations": annotations(model)}
    refs = [value for key, value in walk(ours) if key == "datasource"]
    assert refs
    for ref in refs:
        assert ref == {"type": "influxdb", "uid": DATASOURCE_UID}


def assert_grafana_model(model: dict[str, Any]) -> None:
    """Loads as a dashboard: the double's checks, then what the browser would trip on."""
    assert shape_problem(model) is None
    assert isinstance(model["uid"], str) and 0 < len(model["uid"]) <= UID_MAX_LENGTH
    assert model["title"] and isinstance(model["schemaVersion"], int)
    everything = panels(model)
    assert len({p["id"] for p in everything}) == len(everything), "panel ids are unique"
    cells: set[tuple[int, int]] = set()
    for panel in everything:
        assert panel["type"] in PANEL_TYPES, panel["title"]
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"} and 0 <= grid["x"] < grid["x"] + grid["w"] <= 24
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']!r} overlaps another panel"
        cells |= area
        if panel["type"] == "row":
            assert grid["w"] == 24 and "targets" not in panel
            continue
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(set(refs)) == len(refs), panel["title"]
    for entry in annotations(model):
        assert entry["enable"] is True and entry["name"] and entry["iconColor"]
        assert entry["target"]["refId"] and entry["target"]["query"]


def assert_variables_declared(model: dict[str, Any]) -> None:
    """Every ${name} / $name in the model is a variable of the dashboard."""
    declared = set(variables(model))
    used = set()
    for _, value in walk(model):
        if isinstance(value, str):
            used |= referenced_variables(value)
    assert used <= declared, f"undeclared variables {used - declared}"


# -- dataset dashboards -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPECS))
def test_dataset_dashboard_structure(name: str) -> None:
    spec = SPECS[name]
    model = json.loads(json.dumps(dataset_dashboard(spec, BUCKET)))
    assert_grafana_model(model)
    assert model["uid"] == dataset_uid(name) and len(model["uid"]) <= UID_MAX_LENGTH
    assert name in model["title"]
    titles = [p["title"] for p in model["panels"]]
    assert titles[: len(spec.fields)] == list(spec.field_names)
    alerts = 1 if spec.alerts else 0
    assert len(model["panels"]) == len(spec.fields) + len(spec.aggregations) + alerts
    assert ("Alerts" in titles) == bool(spec.alerts)
    assert [a["name"] for a in annotations(model)] == (["Alerts"] if spec.alerts else [])
    for panel in model["panels"]:
        assert panel["type"] in ("timeseries", "state-timeline")
        assert [t["refId"] for t in panel["targets"]] == ["A"]


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
    assert_variables_declared(model)
    for text in queries(model):
        assert_flux_shape(text, BUCKET_VAR)
        assert f'"{BUCKET}"' not in text


@pytest.mark.parametrize("name", sorted(SPECS))
def test_flux_names_only_what_the_spec_and_the_spark_job_write(name: str) -> None:
    spec = SPECS[name]
    model = dataset_dashboard(spec, BUCKET)
    written = _dataset_points(spec)
    for text in queries(model):
        assert_reads_only_what_is_written(text, written)
    for field in spec.fields:
        panel = next(p for p in model["panels"] if p["title"] == field.name)
        text = panel["targets"][0]["query"]
        assert FIELD.findall(text) == [field.name]
        assert MEASUREMENT.findall(text) == [spec.name]
        for tag in spec.tags:
            assert f'contains(value: r["{tag}"], set: ${{{tag}:json}})' in text


def test_aggregates_panel_reads_what_the_spark_job_writes() -> None:
    specs_with_aggregates = [s for s in SPECS.values() if s.aggregations]
    assert specs_with_aggregates, "datasets/ should declare at least one aggregation"
    for spec in specs_with_aggregates:
        model = dataset_dashboard(spec, BUCKET)
        first, after = len(spec.fields), len(spec.fields) + len(spec.aggregations)
        for agg, panel in zip(spec.aggregations, model["panels"][first:after], strict=True):
            text = panel["targets"][0]["query"]
            written = series.aggregate_series(spec, agg)
            assert set(FIELD.findall(text)) == set(written.fields)
            assert MEASUREMENT.findall(text) == [written.measurement]
            assert "window" in written.tags
            assert f'r.window == "{series.window_tag(agg)}"' in text
            assert window_tag(agg.window) == series.window_tag(agg)


def test_alerts_panel_and_annotation_read_what_the_spark_job_writes() -> None:
    specs_with_alerts = [s for s in SPECS.values() if s.alerts]
    assert specs_with_alerts, "datasets/ should declare at least one alert"
    for spec in specs_with_alerts:
        model = dataset_dashboard(spec, BUCKET)
        measurement = series.alert_series(spec).measurement
        assert measurement in _dataset_points(spec)
        panel = next(p for p in model["panels"] if p["title"] == "Alerts")
        text = panel["targets"][0]["query"]
        assert MEASUREMENT.findall(text) == [measurement]
        assert 'group(columns: ["alert"])' in text and "fn: count" in text
        for alert in spec.alerts:
            assert alert.name in panel["description"]
        (entry,) = annotations(model)
        query = entry["target"]["query"]
        assert MEASUREMENT.findall(query) == [measurement]
        _assert_annotation_frame(query)


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


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_dashboard_file_is_a_usable_model(path: Path) -> None:
    model = load_dashboard_file(path, DEFAULTS)
    assert_grafana_model(model)
    assert_datasources_by_uid(model)
    assert_variables_declared(model)
    bucket_vars = {n for n in variables(model) if n in DEFAULTS}
    assert len(bucket_vars) == 1, f"{path.name}: one bucket variable"
    for text in queries(model):
        assert_flux_shape(text, next(iter(bucket_vars)))
        assert f'"{DEFAULTS[next(iter(bucket_vars))]}"' not in text


def test_pipeline_dashboard_reads_what_the_job_the_collector_and_the_streamer_write() -> None:
    model = load_dashboard_file(PIPELINE_FILE, DEFAULTS)
    assert model["uid"] == "streamlab-pipeline" and model["title"] == "Pipeline"
    pipeline_var = variables(model)[PIPELINE_BUCKET_VAR]
    assert pipeline_var["current"]["value"] == PIPELINE_BUCKET
    written = _pipeline_points()
    assert {"spark_query", "spark_sink"} <= set(written)
    for text in queries(model):
        assert_reads_only_what_is_written(text, written)


def test_pipeline_dashboard_shows_every_pipeline_measurement() -> None:
    """Each measurement written to the pipeline bucket has a panel (the streamer's events:
    the annotation), so nothing the collector writes goes unseen."""
    model = load_dashboard_file(PIPELINE_FILE, DEFAULTS)
    shown = {m for text in panel_queries(model) for m in MEASUREMENT.findall(text)}
    marked = {m for a in annotations(model) for m in MEASUREMENT.findall(a["target"]["query"])}
    events = {"streamer_event"}
    assert set(_pipeline_points()) - events <= shown
    assert marked == events


def test_pipeline_dashboard_panels() -> None:
    model = load_dashboard_file(PIPELINE_FILE, DEFAULTS)
    rows = [p["title"] for p in model["panels"] if p["type"] == "row"]
    assert rows == ["Sources", "Streamer", "Kafka", "Spark", "Cluster"]
    by_title = {p["title"]: p for p in panels(model)}
    rate = by_title["Stream rate: asked vs achieved (rows/s)"]["targets"][0]["query"]
    assert set(FIELD.findall(rate)) == {"asked_rows_per_s", "achieved_rows_per_s"}
    sources = by_title["Sources"]
    assert sources["type"] == "stat" and "source_status" in sources["targets"][0]["query"]
    dead = [t["query"] for t in by_title["Dead letters and filtered rows"]["targets"]]
    assert [MEASUREMENT.findall(q) for q in dead] == [["streamer_stream"], ["kafka_topic"]]
    assert 'r.kind == "deadletter"' in dead[1]
    assert set(FIELD.findall(dead[0])) == {"rows_deadlettered", "rows_filtered"}
    for panel in panels(model):
        assert panel["type"] == "row" or panel["description"], panel["title"]


def test_pipeline_dashboard_marks_rate_changes() -> None:
    model = load_dashboard_file(PIPELINE_FILE, DEFAULTS)
    assert model["annotations"]["list"][0] == BUILT_IN_ANNOTATIONS
    (entry,) = annotations(model)
    assert entry["name"] == "Rate changes" and entry["enable"] is True
    assert entry["datasource"] == {"type": "influxdb", "uid": DATASOURCE_UID}
    query = entry["target"]["query"]
    assert MEASUREMENT.findall(query) == ["streamer_event"]
    assert set(FIELD.findall(query)) == {"title", "text"}
    assert "set: ${stream:json}" in query
    _assert_annotation_frame(query)


def test_bucket_defaults_come_from_the_settings() -> None:
    model = load_dashboard_file(PIPELINE_FILE, {**DEFAULTS, PIPELINE_BUCKET_VAR: "metrics"})
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


def _assert_annotation_frame(query: str) -> None:
    """One table (one frame) of _time, title, text and tags: the names Grafana's standard
    annotation support maps to an event's time, title, text and tags."""
    steps = [line.strip() for line in query.splitlines()]
    assert '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")' in steps
    assert "|> group()" in steps
    assert '|> keep(columns: ["_time", "title", "text", "tags"])' in steps
    assert "tags" in MADE.findall(query)


def _written(points: list[Point]) -> Written:
    """Measurement -> (tags, fields) of influxdb-client Points, read from their line
    protocol (a Point has no public getters); enough for these points' plain names."""
    written: Written = {}
    for text in (p.to_line_protocol() for p in points):
        key, field_text, _ = text.split(" ")
        measurement, *tags = key.split(",")
        known_tags, known_fields = written.setdefault(measurement, (set(), set()))
        known_tags |= {t.split("=")[0] for t in tags}
        known_fields |= {f.split("=")[0] for f in field_text.split(",")}
    return written


def _dataset_points(spec: DatasetSpec) -> Written:
    """Measurement -> (tags, fields) in the data bucket: the series the Spark job writes
    (sparkjob.series): the spec's rows, its aggregates and, when it declares any, alerts."""
    written_series = [series.data_series(spec)]
    written_series += [series.aggregate_series(spec, agg) for agg in spec.aggregations]
    if spec.alerts:
        written_series.append(series.alert_series(spec))
    written: Written = {}
    for each in written_series:
        tags, fields = written.setdefault(each.measurement, (set(), set()))
        tags |= set(each.tags)
        fields |= set(each.fields)
    return written


def _pipeline_points() -> Written:
    """Measurement -> (tags, fields) in the pipeline bucket: the Spark job's progress and
    sinks points as sparkjob.series builds them (every optional field present), then
    pipeline_schema for the collector and the streamer (their own tests hold them to it)."""
    source = SimpleNamespace(metrics={"maxOffsetsBehindLatest": "3"})
    progress = SimpleNamespace(
        name="temps.sinks", id="q", batchId=4, numInputRows=10, batchDuration=12,
        inputRowsPerSecond=5.0, processedRowsPerSecond=6.0,
        durationMs={"triggerExecution": 11}, sources=[source],
    )  # fmt: skip
    latency = {"latency_ms_p50": 5.0, "latency_ms_p95": 7.0, "latency_ms_max": 9.0}
    points = _written([series.query_point(progress), series.sink_point("temps", 4, 10, latency)])
    for m in MEASUREMENTS.values():
        assert m.name not in points, f"{m.name}: written by the Spark job and the schema"
        points[m.name] = (set(m.tags), set(m.fields))
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
