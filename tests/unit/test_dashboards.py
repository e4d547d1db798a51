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
import yaml
from influxdb_client import Point

from doubles.grafana.api_dashboards import shape_problem
from provisioning import flux
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
)
from sparkjob import series
from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.settings import Settings
from streamlab.spec_processing import Aggregation, seconds
from streamlab.specs import DatasetSpec, load_specs, parse_spec

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
TAG_FILTER = re.compile(r'contains\(value: r\["([^"]+)"\]')

# A spec with every processing key the dashboards show: derived columns (typed, untyped, a
# tag), a lookup adding a field and a tag, both forms of alert, and aggregations with
# group_by, slide and outputs. The lookup table is relative to the spec's folder, datasets/.
STATIONS = """\
name: stations
source:
  type: synthetic
  tag_values: {station_id: ["3931211791", "850691265"]}
  generators:
    bikes: {kind: uniform, low: 0, high: 30}
    docks: {kind: uniform, low: 0, high: 30}
    status: {kind: choice, values: [ok, broken]}
tags: [station_id]
fields: {bikes: int, docks: int, status: string}
derive:
  capacity: {expr: "bikes + docks", type: int}
  fill: "bikes / (bikes + docks)"
  band: {expr: "CASE WHEN bikes < 3 THEN 'low' ELSE 'ok' END", tag: true}
lookups:
  - table: data/velib_stations.csv
    key: station_id
    columns: [name]
    tags: [postcode]
enriched: true
alerts:
  - name: empty
    when: "bikes = 0 AND status = 'ok'"
  - name: few
    field: bikes
    operator: "<"
    value: 3
aggregations:
  - name: by_area
    window: 15 minutes
    slide: 5 minutes
    group_by: [postcode, band]
    functions: [avg, max]
    fields: [bikes]
    count: rows
    outputs: [influxdb, kafka]
  - window: 1 minutes
    functions: [last]
    fields: [status]
  - name: to_kafka
    window: 1 minutes
    count: rows
    outputs: [kafka]
"""


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
    assert titles[: len(spec.point_fields)] == list(spec.point_fields)
    alerts = 1 if spec.alerts else 0
    charted = [a for a in spec.aggregations if "influxdb" in a.outputs]
    assert len(model["panels"]) == len(spec.point_fields) + len(charted) + alerts
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
    assert set(found) == {BUCKET_VAR, *spec.point_tags}
    bucket = found[BUCKET_VAR]
    assert bucket["query"] == BUCKET and bucket["current"]["value"] == BUCKET
    for tag in spec.point_tags:
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
    data = series.data_series(spec)
    for field in data.fields:
        panel = next(p for p in model["panels"] if p["title"] == field)
        text = panel["targets"][0]["query"]
        assert FIELD.findall(text) == [field]
        assert MEASUREMENT.findall(text) == [data.measurement]
        for tag in data.tags:
            assert f'contains(value: r["{tag}"], set: ${{{tag}:json}})' in text


def test_aggregates_panel_reads_what_the_spark_job_writes() -> None:
    specs_with_aggregates = [s for s in SPECS.values() if s.aggregations]
    assert specs_with_aggregates, "datasets/ should declare at least one aggregation"
    for spec in specs_with_aggregates:
        model = dataset_dashboard(spec, BUCKET)
        first = len(spec.point_fields)
        charted = [a for a in spec.aggregations if "influxdb" in a.outputs]
        after = first + len(charted)
        for agg, panel in zip(charted, model["panels"][first:after], strict=True):
            _assert_aggregate_panel(spec, agg, panel)


def test_alerts_panel_and_annotation_read_what_the_spark_job_writes() -> None:
    specs_with_alerts = [s for s in SPECS.values() if s.alerts]
    assert specs_with_alerts, "datasets/ should declare at least one alert"
    for spec in specs_with_alerts:
        model = dataset_dashboard(spec, BUCKET)
        measurement = series.alert_series(spec).measurement
        assert measurement in _dataset_points(spec)
        panel = next(p for p in model["panels"] if p["title"] == "Alerts")
        _assert_alerts(spec, panel, annotations(model))


# -- a spec with derived columns, lookups, when-alerts and grouped aggregations -----------


@pytest.fixture
def stations() -> DatasetSpec:
    return parse_spec(yaml.safe_load(STATIONS), ROOT / "datasets" / "stations.yaml", {})


def test_processed_spec_dashboard_is_usable_and_reads_what_the_job_writes(
    stations: DatasetSpec,
) -> None:
    model = json.loads(json.dumps(dataset_dashboard(stations, BUCKET)))
    assert_grafana_model(model)
    assert_datasources_by_uid(model)
    assert_variables_declared(model)
    written = _dataset_points(stations)
    for text in queries(model):
        assert_flux_shape(text, BUCKET_VAR)
        assert_reads_only_what_is_written(text, written)
    titles = [p["title"] for p in model["panels"]]
    # the spec's fields, then derived, then looked up; the aggregations; the alerts
    assert titles[:6] == ["bikes", "docks", "status", "capacity", "fill", "name"]
    assert titles[6].startswith("by_area: ") and titles[7].startswith("agg1: ")
    assert titles[8:] == ["Alerts"]


def test_derived_and_looked_up_fields_get_panels(stations: DatasetSpec) -> None:
    model = dataset_dashboard(stations, BUCKET)
    by_title = {p["title"]: p for p in model["panels"]}

    def query(title: str) -> str:
        return by_title[title]["targets"][0]["query"]

    for name in ("capacity", "fill", "name"):
        assert FIELD.findall(query(name)) == [name]
        assert MEASUREMENT.findall(query(name)) == [series.data_series(stations).measurement]
    # A derived column with a type: like a spec field of that type.
    assert by_title["capacity"]["type"] == by_title["bikes"]["type"] == "timeseries"
    assert "fn: mean" in query("capacity")
    assert "bikes + docks" in by_title["capacity"]["description"]
    # No type known (untyped derived, looked up): the last value, which any type has.
    for name in ("fill", "name"):
        assert by_title[name]["type"] == "state-timeline"
        assert "fn: last" in query(name)
        assert "mean" not in query(name) and "toInt" not in query(name)
    assert "velib_stations" in by_title["name"]["description"]


def test_derived_and_looked_up_tags_are_variables_and_filters(stations: DatasetSpec) -> None:
    model = dataset_dashboard(stations, BUCKET)
    found = variables(model)
    assert set(found) == {BUCKET_VAR, "station_id", "band", "postcode"}
    for tag in ("band", "postcode"):
        assert found[tag]["type"] == "query" and found[tag]["multi"]
        assert f'tag: "{tag}"' in found[tag]["query"]
        assert MEASUREMENT.findall(found[tag]["query"]) == ["stations"]
    text = model["panels"][0]["targets"][0]["query"]
    assert TAG_FILTER.findall(text) == ["station_id", "band", "postcode"]
    # A row may lack a derived or looked-up tag (null, a lookup miss): it stays in view.
    assert 'not exists r["band"] or contains(value: r["band"], set: ${band:json})' in text
    assert 'not exists r["postcode"] or contains(' in text
    assert 'not exists r["station_id"]' not in text


def test_a_panel_per_aggregation_grouped_by_its_columns(stations: DatasetSpec) -> None:
    model = dataset_dashboard(stations, BUCKET)
    by_area, per_minute, to_kafka = stations.aggregations
    first, second = model["panels"][6:8]
    # an aggregation with only a kafka output writes no points: no panel
    assert not [p for p in model["panels"] if to_kafka.name in p["title"]]
    _assert_aggregate_panel(stations, by_area, first)
    _assert_aggregate_panel(stations, per_minute, second)
    assert (
        first["title"] == "by_area: bikes_avg, bikes_max, rows per 900s window, sliding every 300s"
    )
    assert second["title"] == "agg1: status_last per 60s window"
    text = first["targets"][0]["query"]
    assert '|> group(columns: ["postcode", "band", "_field"])' in text
    # station_id is no tag of by_area's points: no filter on it (it would drop them all)
    assert sorted(TAG_FILTER.findall(text)) == ["band", "postcode"]
    assert "postcode, band" in first["description"] and "kafka" in first["description"]
    text = second["targets"][0]["query"]
    assert '|> group(columns: ["station_id", "_field"])' in text
    assert 'r.aggregation == "agg1"' in text and 'r.window == "60s"' in text
    # min/max/first/last may be strings: no mean over aggregates
    assert "fn: last" in text and "mean" not in text


def test_alerts_panel_and_annotation_for_when_and_field_alerts(stations: DatasetSpec) -> None:
    model = dataset_dashboard(stations, BUCKET)
    panel = next(p for p in model["panels"] if p["title"] == "Alerts")
    _assert_alerts(stations, panel, annotations(model))
    assert "empty: bikes = 0 AND status = 'ok'" in panel["description"]
    assert "few: bikes < 3" in panel["description"]
    (entry,) = annotations(model)
    query = entry["target"]["query"]
    assert 'if r["alert"] == "empty" then "bikes = 0 AND status = \'ok\'"' in query
    assert 'if r["alert"] == "few" then "bikes < 3"' in query
    # alert points carry the spec's tags only: no filter on derived or looked-up ones
    for text in (query, panel["targets"][0]["query"]):
        assert TAG_FILTER.findall(text) == ["station_id"]


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
    assert {"spark_query", "spark_sink", "spark_dataset"} <= set(written)
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


def test_pipeline_dashboard_shows_lookups_drops_and_datasets_not_started() -> None:
    model = load_dashboard_file(PIPELINE_FILE, DEFAULTS)
    by_title = {p["title"]: p for p in panels(model)}
    rows = [p for p in model["panels"] if p["type"] == "row"]
    spark, cluster = (next(r["gridPos"]["y"] for r in rows if r["title"] == t)
                      for t in ("Spark", "Cluster"))  # fmt: skip
    sink = by_title["Rows left out and lookup misses"]
    text = sink["targets"][0]["query"]
    assert MEASUREMENT.findall(text) == ["spark_sink"]
    assert set(FIELD.findall(text)) == {"lookup_misses", "rows_dropped"}
    failed = by_title["Datasets the job could not start"]
    assert failed["type"] == "table"
    text = failed["targets"][0]["query"]
    assert MEASUREMENT.findall(text) == ["spark_dataset"]
    assert set(FIELD.findall(text)) == {"failed", "error"}
    # the last point of each dataset (its last start), with its name and error
    steps = [line.strip() for line in text.splitlines()]
    pivot = '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
    assert steps.index(pivot) < steps.index('|> last(column: "_time")') < steps.index("|> group()")
    assert {"dataset", "error", "failed"} <= columns_named(text)
    # the failed ones shown (the query itself answers whenever the job has started)
    (only_failed,) = [t for t in failed["transformations"] if t["id"] == "filterByValue"]
    assert only_failed["options"]["type"] == "include"
    assert only_failed["options"]["filters"] == [
        {"fieldName": "failed", "config": {"id": "equal", "options": {"value": 1}}}
    ]
    assert failed["timeFrom"]  # written once, at the job's start: a longer look back
    for panel in (sink, failed):
        assert spark < panel["gridPos"]["y"] < cluster, panel["title"]
    # a dataset that never started is still a value of the dataset variable
    assert 'r._measurement == "spark_dataset"' in variables(model)["dataset"]["query"]


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


def _assert_aggregate_panel(spec: DatasetSpec, agg: Aggregation, panel: dict[str, Any]) -> None:
    """One aggregation's points (its window and aggregation tags), a series per group."""
    text = panel["targets"][0]["query"]
    written = series.aggregate_series(spec, agg)
    assert_reads_only_what_is_written(text, _dataset_points(spec))
    assert MEASUREMENT.findall(text) == [written.measurement]
    assert set(FIELD.findall(text)) == set(written.fields) == set(agg.columns)
    assert {"window", "aggregation"} <= set(written.tags)
    assert f'r.window == "{series.window_tag(agg)}"' in text
    assert f'r.aggregation == "{agg.name}"' in text
    steps = [line.strip() for line in text.splitlines()]
    group = f"|> group(columns: {json.dumps([*agg.group_by, '_field'])})"
    assert group in steps, text
    assert steps.index(group) < next(i for i, s in enumerate(steps) if "aggregateWindow" in s)
    # only the group columns that have a variable are filtered (the others are no tags here)
    assert set(TAG_FILTER.findall(text)) == set(agg.group_by) & set(spec.point_tags)
    title = panel["title"]
    assert title.startswith(f"{agg.name}: ") and series.window_tag(agg) in title
    assert all(column in title for column in agg.columns)
    if agg.slide:
        assert f"sliding every {seconds(agg.slide)}s" in title
    else:
        assert "sliding" not in title


def _assert_alerts(spec: DatasetSpec, panel: dict[str, Any], entries: list[dict]) -> None:
    """Rows that fired, counted per alert by their `fired` field; the rules in the
    description; an annotation whose text needs no value (a `when` alert has none)."""
    written = series.alert_series(spec)
    assert "fired" in written.fields
    text = panel["targets"][0]["query"]
    assert MEASUREMENT.findall(text) == [written.measurement]
    assert FIELD.findall(text) == ["fired"]
    assert 'group(columns: ["alert"])' in text and "fn: count" in text
    for alert in spec.alerts:
        assert f"{alert.name}: {alert.rule}" in panel["description"]
    (entry,) = entries
    query = entry["target"]["query"]
    assert MEASUREMENT.findall(query) == [written.measurement]
    assert "fired" in FIELD.findall(query)  # every alert point has a row after the pivot
    for alert in spec.alerts:
        assert f'r["alert"] == {flux.string(alert.name)} then {flux.string(alert.rule)}' in query
    # the value only where a point has one (field alerts; not a NaN, not a `when` alert)
    assert "r.threshold" not in query and query.count("r.value") == 2
    assert re.search(r"if exists r\.value then [^)]*string\(v: r\.value\)", query), query
    for found in (TAG_FILTER.findall(text), TAG_FILTER.findall(query)):
        assert set(found) <= set(written.tags)
    _assert_annotation_frame(query)


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
    (sparkjob.series): the spec's rows, its aggregates to influxdb and, when it declares any,
    alerts."""
    written_series = [series.data_series(spec)]
    written_series += [series.aggregate_series(spec, agg) for agg in spec.aggregations
                       if "influxdb" in agg.outputs]  # fmt: skip
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
    # streamlab.spark.frame_writes.Written's attributes (that module needs pyspark)
    written = SimpleNamespace(points=10, missed=2, dropped=1, latency_ms=latency)
    points = _written([
        series.query_point(progress),
        series.sink_point("temps", 4, written),
        series.dataset_point("temps", 3),
        series.dataset_point("velib", 0, "refused"),
    ])  # fmt: skip
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
