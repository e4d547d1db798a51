"""Grafana dashboards: one generated per dataset spec, plus the JSON files in dashboards/.

A dataset dashboard has a panel per field of its points (the spec's fields, then derived
and looked-up ones: DatasetSpec.point_fields), a variable per tag of its points (point_tags),
a panel per aggregation written to InfluxDB and, when the spec declares alerts, an Alerts
panel and an annotation per alert. Each query reads what the Spark job writes
(sparkjob.series; tests/unit/test_dashboards.py holds the two alike). Panels name the
datasource by its fixed uid; the bucket is a dashboard variable whose default is
INFLUX_BUCKET, so no query text names a bucket.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamlab.spec_processing import seconds
from streamlab.specs import Aggregation, DatasetSpec

from . import flux

DATASOURCE_UID = "streamlab-influxdb"
DATASOURCE = {"type": "influxdb", "uid": DATASOURCE_UID}
BUCKET_VAR = "bucket"
PIPELINE_BUCKET_VAR = "pipeline_bucket"
DATASET_UID_PREFIX = "dataset-"
TAGS = ["streamlab"]
# Grafana 12's dashboard schema; Grafana migrates older ones when it loads them.
SCHEMA_VERSION = 41
UID_MAX_LENGTH = 40  # Grafana refuses longer uids
PANEL_WIDTH, PANEL_HEIGHT, GRID_COLUMNS = 12, 8, 24
# What Grafana puts first in every dashboard's annotation list (its own annotations).
BUILT_IN_ANNOTATIONS = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


class DashboardError(ValueError):
    """A dashboard file is not usable; the message names the file and what is wrong."""


def dataset_uid(name: str) -> str:
    uid = f"{DATASET_UID_PREFIX}{name}"
    if len(uid) <= UID_MAX_LENGTH:
        return uid
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{uid[: UID_MAX_LENGTH - 9]}-{digest}"


def tag_variable_name(tag: str) -> str:
    """The variable of a tag: the tag's name, unless a bucket variable already has it."""
    return f"tag_{tag}" if tag in (BUCKET_VAR, PIPELINE_BUCKET_VAR) else tag


def alerts_measurement(dataset: str) -> str:
    """Where the Spark job writes a dataset's alerts (sparkjob.series.alert_series)."""
    return f"{dataset}_alerts"


def aggregates_measurement(dataset: str) -> str:
    """Where the Spark job writes a dataset's aggregates (sparkjob.series.aggregate_series)."""
    return f"{dataset}_agg"


def optional_tags(spec: DatasetSpec) -> set[str]:
    """Tags a point may lack: derived ones (a null value) and looked-up ones (a row that
    missed its lookup and went on, on_miss: keep)."""
    return set(spec.point_tags) - set(spec.tags)


@dataclass(frozen=True)
class PointField:
    name: str
    type: str | None  # a spec field type; None: whatever type Spark gave the column
    description: str


def point_fields(spec: DatasetSpec) -> list[PointField]:
    """The fields of the dataset's points, in DatasetSpec.point_fields' order, with the type
    the spec gives them (none for a derived column without `type` or a looked-up column)."""
    known = {
        f.name: PointField(f.name, f.type, f"{f.type} field of {spec.name}") for f in spec.fields
    }
    for d in spec.derived:
        kind = d.type or "typed by Spark"
        known[d.name] = PointField(d.name, d.type, f"Derived ({kind}): {d.expr}")
    for lookup in spec.lookups:
        for column in lookup.columns:
            where = f"Looked up in {lookup.name} ({lookup.table_key} = {lookup.key})"
            known[column] = PointField(column, None, where)
    return [known[name] for name in spec.point_fields]


# -- variables -------------------------------------------------------------------------------


def bucket_variable(name: str, default: str, label: str) -> dict[str, Any]:
    """A text box, so a user can point a dashboard at another bucket."""
    return {
        "type": "textbox",
        "name": name,
        "label": label,
        "query": default,
        "current": {"selected": False, "text": default, "value": default},
        "options": [{"selected": True, "text": default, "value": default}],
        "hide": 0,
    }


def tag_variable(bucket_var: str, measurement: str, tag: str) -> dict[str, Any]:
    query = flux.tag_values(bucket_var, measurement, tag)
    return {
        "type": "query",
        "name": tag_variable_name(tag),
        "label": tag,
        "datasource": dict(DATASOURCE),
        "query": query,
        "definition": query,
        "refresh": 2,  # on time range change: values of the visible range
        "multi": True,
        "includeAll": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "regex": "",
        "sort": 1,
        "hide": 0,
    }


# -- panels ----------------------------------------------------------------------------------


def grid(index: int, width: int = PANEL_WIDTH, height: int = PANEL_HEIGHT) -> dict[str, int]:
    per_row = GRID_COLUMNS // width
    return {
        "h": height,
        "w": width,
        "x": (index % per_row) * width,
        "y": (index // per_row) * height,
    }


def panel(
    index: int, title: str, query: str, kind: str = "timeseries", description: str = ""
) -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": dict(DATASOURCE),
        "gridPos": grid(index),
        "targets": [{"refId": "A", "datasource": dict(DATASOURCE), "query": query}],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": _options(kind),
    }


def _options(kind: str) -> dict[str, Any]:
    legend = {"displayMode": "list", "placement": "bottom", "showLegend": True}
    if kind == "timeseries":
        return {"legend": legend, "tooltip": {"mode": "multi", "sort": "none"}}
    if kind == "state-timeline":
        return {"legend": legend, "showValue": "auto", "mergeValues": True}
    return {}


def field_panel(
    index: int,
    measurement: str,
    field: PointField,
    tags: Sequence[tuple[str, str]],
    optional: Collection[str] = (),
) -> dict[str, Any]:
    """Numbers as a mean per interval; booleans as 0/1; strings as a state timeline.

    A field of no known type (a derived column without `type`, a looked-up column) may hold
    numbers, booleans or strings: its last value per interval (`last` selects, so it takes
    any type, where mean refuses strings) in a state timeline, the one panel that shows
    strings as well as numbers; a time series would draw nothing for a string. Looked-up
    columns are mostly such slowly changing attributes (a station's name, its capacity)."""
    convert = ["|> toInt()"] if field.type == "bool" else []
    fn = "mean" if field.type in ("float", "int") else "last"
    steps = flux.select(BUCKET_VAR, measurement, [field.name], tags, convert, optional)
    kind = "timeseries" if field.type in ("float", "int", "bool") else "state-timeline"
    query = flux.render(steps + flux.windowed(fn))
    return panel(index, field.name, query, kind, field.description)


def charted_aggregations(spec: DatasetSpec) -> list[Aggregation]:
    """The aggregations written to InfluxDB: one with only a kafka output has no points."""
    return [agg for agg in spec.aggregations if "influxdb" in agg.outputs]


def aggregate_title(agg: Aggregation) -> str:
    """'hourly: temp_avg, temp_max, rows per 3600s window, sliding every 600s'."""
    slide = f", sliding every {seconds(agg.slide)}s" if agg.slide else ""
    return f"{agg.name}: {', '.join(agg.columns)} per {seconds(agg.window)}s window{slide}"


def aggregate_panel(
    index: int,
    spec: DatasetSpec,
    agg: Aggregation,
    tags: Sequence[tuple[str, str]],
    optional: Collection[str] = (),
) -> dict[str, Any]:
    """One series per group (its group_by values) and aggregate column, from the points of
    this aggregation (its `aggregation` and `window` tags: several may share columns).

    The points are already one per window and group: `last` per display interval keeps
    them as they are when the interval is shorter than the window and thins them out when
    it is longer, and takes any type (min, max, first and last of a string column)."""
    window = f"{seconds(agg.window)}s"  # the `window` tag: sparkjob.series.window_tag
    extra = [
        f"|> filter(fn: (r) => r.aggregation == {flux.string(agg.name)})",
        f"|> filter(fn: (r) => r.window == {flux.string(window)})",
        f"|> group(columns: {flux.string_list([*agg.group_by, '_field'])})",
    ]
    # Only the group columns have a tag on these points: other tag variables do not apply.
    grouped = [(tag, var) for tag, var in tags if tag in agg.group_by]
    measurement = aggregates_measurement(spec.name)
    steps = flux.select(BUCKET_VAR, measurement, agg.columns, grouped, extra, optional)
    by = f"grouped by {', '.join(agg.group_by)}" if agg.group_by else "all rows together"
    rows = "rows that fired an alert" if agg.rows == "alerts" else "rows"
    slide = f", sliding every {agg.slide}" if agg.slide else ""
    description = (
        f"Aggregation {agg.name} of the {rows} of {spec.name} per {agg.window} window{slide}, "
        f"{by}; computed by the Spark job (to {' and '.join(agg.outputs)})"
    )
    return panel(index, aggregate_title(agg), flux.render(steps + flux.windowed("last")),
                 description=description)  # fmt: skip


def alert_rules(spec: DatasetSpec) -> str:
    return "; ".join(f"{a.name}: {a.rule}" for a in spec.alerts)


def alerts_panel(index: int, spec: DatasetSpec, tags: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """How many rows fired each alert per interval (one series per alert name), counted by
    their `fired` field: every alert point has it, `when` alerts' and a NaN value's too."""
    keep = '|> keep(columns: ["_start", "_stop", "_time", "_value", "_field", "alert"])'
    steps = flux.select(BUCKET_VAR, alerts_measurement(spec.name), ["fired"], tags)
    steps += ['|> group(columns: ["alert"])', keep, *flux.windowed("count")]
    description = f"Rows that fired each alert, per interval ({alert_rules(spec)})"
    result = panel(index, "Alerts", flux.render(steps), description=description)
    result["fieldConfig"]["defaults"] = {
        "displayName": "${__field.labels.alert}",
        "custom": {"drawStyle": "bars", "fillOpacity": 60},
    }
    return result


def alerts_annotation(spec: DatasetSpec, tags: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """An event per row that fired: the alert's rule, and the value for a field alert (a
    `when` alert's points have no value; a field alert's NaN value is not written)."""
    rule = flux.choose("alert", {a.name: a.rule for a in spec.alerts})
    value = '(if exists r.value then " (value " + string(v: r.value) + ")" else "")'
    text = f'r.alert + ": " + {rule} + {value}'
    steps = flux.select(BUCKET_VAR, alerts_measurement(spec.name), ["fired", "value"], tags)
    steps += flux.as_annotations({"title": "r.alert", "text": text, "tags": "r.alert"})
    return annotation("Alerts", flux.render(steps), "red")


def annotation(name: str, query: str, color: str) -> dict[str, Any]:
    """An annotation query on the InfluxDB datasource, as Grafana stores one for Flux."""
    return {
        "datasource": dict(DATASOURCE),
        "enable": True,
        "hide": False,
        "iconColor": color,
        "name": name,
        "target": {"refId": "Anno", "query": query},
    }


# -- dashboards ------------------------------------------------------------------------------


def dataset_dashboard(spec: DatasetSpec, bucket_default: str) -> dict[str, Any]:
    tags = [(tag, tag_variable_name(tag)) for tag in spec.point_tags]
    # Alert points carry the spec's own tags only (sparkjob.series.alert_series).
    spec_tags = [(tag, var) for tag, var in tags if tag in spec.tags]
    optional = optional_tags(spec)
    panels = [
        field_panel(i, spec.name, f, tags, optional) for i, f in enumerate(point_fields(spec))
    ]
    for agg in charted_aggregations(spec):
        panels.append(aggregate_panel(len(panels), spec, agg, tags, optional))
    annotations = []
    if spec.alerts:
        panels.append(alerts_panel(len(panels), spec, spec_tags))
        annotations.append(alerts_annotation(spec, spec_tags))
    variables = [bucket_variable(BUCKET_VAR, bucket_default, "Bucket")]
    variables += [tag_variable(BUCKET_VAR, spec.name, tag) for tag in spec.point_tags]
    return dashboard(
        uid=dataset_uid(spec.name),
        title=f"Dataset: {spec.name}",
        description=spec.description,
        panels=panels,
        variables=variables,
        tags=[*TAGS, "dataset"],
        annotations=annotations,
    )


def dashboard(
    uid: str,
    title: str,
    panels: list[dict[str, Any]],
    variables: list[dict[str, Any]],
    description: str = "",
    tags: Sequence[str] = TAGS,
    annotations: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": list(tags),
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "schemaVersion": SCHEMA_VERSION,
        "templating": {"list": variables},
        "annotations": {"list": [copy.deepcopy(BUILT_IN_ANNOTATIONS), *annotations]},
        "links": [
            {
                "type": "dashboards",
                "title": "StreamLab",
                "tags": list(TAGS),
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
            }
        ],
        "panels": panels,
    }


def load_dashboard_file(path: Path, bucket_defaults: Mapping[str, str]) -> dict[str, Any]:
    """A dashboard JSON model from dashboards/, its bucket variables set to the settings."""
    try:
        model = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DashboardError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(model, dict) or not model.get("uid") or not model.get("title"):
        raise DashboardError(f"{path}: expected a dashboard JSON model with a uid and a title")
    return with_bucket_defaults(model, bucket_defaults)


def with_bucket_defaults(model: dict[str, Any], defaults: Mapping[str, str]) -> dict[str, Any]:
    """A copy whose bucket variables (named in defaults) default to the given buckets."""
    result = copy.deepcopy(model)
    for variable in result.get("templating", {}).get("list", []):
        if variable.get("name") in defaults and variable.get("type") in ("textbox", "custom"):
            fresh = bucket_variable(variable["name"], defaults[variable["name"]], "")
            variable.update({k: fresh[k] for k in ("query", "current", "options")})
    return result


def all_dashboards(
    specs: Mapping[str, DatasetSpec], folder: Path, bucket_defaults: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The files in folder (sorted by name), then one per dataset; uids must be unique."""
    if not folder.is_dir():
        raise DashboardError(f"{folder}: the dashboards folder does not exist")
    files = sorted(folder.glob("*.json"))
    models = [load_dashboard_file(path, bucket_defaults) for path in files]
    bucket = bucket_defaults[BUCKET_VAR]
    models += [dataset_dashboard(spec, bucket) for spec in specs.values()]
    seen: dict[str, str] = {}
    for model in models:
        if model["uid"] in seen:
            raise DashboardError(
                f"two dashboards have the uid {model['uid']!r} ({seen[model['uid']]!r} and "
                f"{model['title']!r}): change the uid in dashboards/ or rename the dataset"
            )
        seen[model["uid"]] = model["title"]
    return models
