"""Grafana dashboards: one generated per dataset spec, plus the JSON files in dashboards/.

A dataset dashboard has a time-series panel per field, a variable per tag, a panel per
declared aggregation and, when the spec declares alerts, an Alerts panel and an annotation
per alert. Panels name the datasource by its fixed uid; the bucket is a dashboard variable
whose default is INFLUX_BUCKET, so no query text names a bucket.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from streamlab.specs import Aggregation, DatasetSpec, FieldSpec

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
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}
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


def window_tag(window: str) -> str:
    """'1 minutes' -> '60s': the `window` tag the Spark job gives <dataset>_agg points
    (sparkjob.series.window_tag; tests/unit/test_dashboards.py holds the two alike)."""
    amount, unit = re.fullmatch(r"(\d+) (seconds|minutes|hours)", window).groups()
    return f"{int(amount) * _UNIT_SECONDS[unit]}s"


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
    index: int, spec: DatasetSpec, field: FieldSpec, tags: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """Numbers as a mean per interval; booleans as 0/1; strings as a state timeline."""
    convert = ["|> toInt()"] if field.type == "bool" else []
    fn = "mean" if field.type in ("float", "int") else "last"
    steps = flux.select(BUCKET_VAR, spec.name, [field.name], tags, convert) + flux.windowed(fn)
    kind = "state-timeline" if field.type == "string" else "timeseries"
    return panel(index, field.name, flux.render(steps), kind, f"{field.type} field of {spec.name}")


def aggregate_panel(
    index: int, spec: DatasetSpec, agg: Aggregation, tags: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    window = window_tag(agg.window)
    fields = [f"{name}_{fn}" for name in agg.fields for fn in agg.functions]
    extra = [f"|> filter(fn: (r) => r.window == {flux.string(window)})"]
    steps = flux.select(BUCKET_VAR, f"{spec.name}_agg", fields, tags, extra)
    title = f"{', '.join(agg.fields)}: {', '.join(agg.functions)} per {window} window"
    description = f"Windowed aggregates of {', '.join(agg.fields)} computed by the Spark job"
    return panel(index, title, flux.render(steps), description=description)


def alerts_panel(index: int, spec: DatasetSpec, tags: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """How many rows fired each alert per interval (one series per alert name)."""
    keep = '|> keep(columns: ["_start", "_stop", "_time", "_value", "_field", "alert"])'
    # threshold, not value: a point always has it (the job drops a NaN value, not the point)
    steps = flux.select(BUCKET_VAR, alerts_measurement(spec.name), ["threshold"], tags)
    steps += ['|> group(columns: ["alert"])', keep, *flux.windowed("count")]
    rules = "; ".join(f"{a.name}: {a.field} {a.operator} {a.value:g}" for a in spec.alerts)
    result = panel(index, "Alerts", flux.render(steps), description=f"Rows that fired ({rules})")
    result["fieldConfig"]["defaults"] = {
        "displayName": "${__field.labels.alert}",
        "custom": {"drawStyle": "bars", "fillOpacity": 60},
    }
    return result


def alerts_annotation(spec: DatasetSpec, tags: Sequence[tuple[str, str]]) -> dict[str, Any]:
    value = '(if exists r.value then string(v: r.value) else "NaN")'
    text = f'r.alert + ": " + {value} + " (threshold " + string(v: r.threshold) + ")"'
    steps = flux.select(BUCKET_VAR, alerts_measurement(spec.name), ["value", "threshold"], tags)
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
    tags = [(tag, tag_variable_name(tag)) for tag in spec.tags]
    panels = [field_panel(i, spec, f, tags) for i, f in enumerate(spec.fields)]
    for agg in spec.aggregations:
        panels.append(aggregate_panel(len(panels), spec, agg, tags))
    annotations = []
    if spec.alerts:
        panels.append(alerts_panel(len(panels), spec, tags))
        annotations.append(alerts_annotation(spec, tags))
    variables = [bucket_variable(BUCKET_VAR, bucket_default, "Bucket")]
    variables += [tag_variable(BUCKET_VAR, spec.name, tag) for tag in spec.tags]
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
