"""A Grafana dashboard's Flux queries, and each one's text as Grafana sends it to InfluxDB.

Grafana substitutes dashboard variables first (its template service: ${var}, $var,
${var:json}), then its InfluxDB datasource's backend replaces the Flux macros
(pkg/tsdb/influxdb/flux/macros.go): v.timeRangeStart and v.timeRangeStop become RFC 3339
date-time literals, v.windowPeriod the interval as Go formats a duration ("10s", "1m0s").
Its $__interval and $__interval_ms are not substituted here (no dashboard uses them): a
query with one fails in InfluxDB, visibly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# ${name}, ${name:format}, $name; Grafana's own ($__interval, ...) start with "__".
VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")
# What macros.go matches: any word.word, replaced when the second word is a macro.
FLUX_MACRO = re.compile(r"([a-zA-Z]+)\.([a-zA-Z]+)")
# Variable types whose value is what the dashboard stores (no query to run).
STORED_TYPES = ("textbox", "constant", "custom")
ALL = "$__all"


@dataclass(frozen=True)
class Query:
    dashboard: str  # the dashboard's uid
    kind: str  # panel, variable or annotation
    name: str  # the panel's title, the variable's or the annotation's name
    text: str  # Flux as the dashboard stores it


@dataclass(frozen=True)
class TimeRange:
    start: datetime  # timezone-aware
    stop: datetime
    interval: timedelta  # what Grafana derives from the range and the panel's width


# -- the queries of a dashboard model --------------------------------------------------------


def panel_queries(model: Mapping[str, Any]) -> list[Query]:
    """Every target's query of every panel, rows' nested panels included."""
    return [
        Query(model["uid"], "panel", panel.get("title", ""), target["query"])
        for panel in _panels(model.get("panels", []))
        for target in panel.get("targets", [])
        if target.get("query")
    ]


def _panels(panels: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def variable_queries(model: Mapping[str, Any]) -> list[Query]:
    return [
        Query(model["uid"], "variable", variable["name"], _text(variable["query"]))
        for variable in model.get("templating", {}).get("list", [])
        if variable.get("type") == "query"
    ]


def _text(query: str | Mapping[str, Any]) -> str:
    """A variable's query: a string, or {"query": ...} as newer Grafana versions store it."""
    return query if isinstance(query, str) else query["query"]


def annotation_queries(model: Mapping[str, Any]) -> list[Query]:
    """Annotations on a datasource (Grafana's built-in one has no query)."""
    return [
        Query(model["uid"], "annotation", annotation["name"], annotation["target"]["query"])
        for annotation in model.get("annotations", {}).get("list", [])
        if annotation.get("target", {}).get("query")
    ]


def variable_values(
    model: Mapping[str, Any], answer: Callable[[str, str], list[str]]
) -> dict[str, list[str]]:
    """Each variable's values, in the dashboard's order (a query may use the variables
    before it): the stored value, or for a query variable whose selection is All (what the
    provisioner stores), what answer(name, query) gives, the query's variables substituted.
    """
    values: dict[str, list[str]] = {}
    for variable in model.get("templating", {}).get("list", []):
        current = variable.get("current", {}).get("value", variable.get("query", ""))
        chosen = current if isinstance(current, list) else [current]
        if variable.get("type") == "query" and ALL in chosen:
            query = substitute_variables(_text(variable["query"]), values)
            chosen = answer(variable["name"], query)
        elif variable.get("type") not in (*STORED_TYPES, "query"):
            raise ValueError(
                f"variable {variable['name']}: type {variable.get('type')} unknown here"
            )
        values[variable["name"]] = chosen
    return values


# -- Grafana's substitutions -----------------------------------------------------------------


def substitute_variables(text: str, values: Mapping[str, Sequence[str]]) -> str:
    """${name:json} -> a JSON list of the values; ${name} and $name -> the one value."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name.startswith("__"):
            return match.group(0)
        if name not in values:
            raise KeyError(f"the query uses ${name}, which the dashboard does not define")
        chosen = list(values[name])
        if match.group(2) == "json":
            # As JavaScript's JSON.stringify writes it: non-ASCII as is (Flux has no \u).
            return json.dumps(chosen, ensure_ascii=False, separators=(",", ":"))
        if match.group(2) is None and len(chosen) == 1:
            return chosen[0]
        raise ValueError(
            f"{match.group(0)} with {len(chosen)} values: multi-value variables go in as "
            "${name:json} (provisioning/flux.py)"
        )

    return VARIABLE.sub(replace, text)


def interpolate_macros(text: str, time_range: TimeRange) -> str:
    """What Grafana's InfluxDB backend does to a Flux query before sending it."""
    replacements = {
        "timeRangeStart": rfc3339_nano(time_range.start),
        "timeRangeStop": rfc3339_nano(time_range.stop),
        "windowPeriod": go_duration(time_range.interval),
    }
    for match in set(FLUX_MACRO.findall(text)):
        if match[1] in replacements:
            text = text.replace(".".join(match), replacements[match[1]])
    return text


def rfc3339_nano(moment: datetime) -> str:
    """Go's time.RFC3339Nano of the time in UTC: trailing zeros of the fraction dropped."""
    utc = moment.astimezone(UTC)
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def go_duration(duration: timedelta) -> str:
    """Go's time.Duration.String() to the millisecond: 500ms, 10s, 1m0s, 1h30m0s."""
    ms = round(duration / timedelta(milliseconds=1))
    if ms < 1000:
        return f"{ms}ms" if ms else "0s"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest // 1000}" + (f".{rest % 1000:03d}".rstrip("0") if rest % 1000 else "")
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


# -- what a query reads ----------------------------------------------------------------------

BUCKET = re.compile(r'\bbucket: "([^"]+)"')
MEASUREMENT = re.compile(r'r\._measurement == "([^"]+)"')
FIELD = re.compile(r'r\["_field"\] == "([^"]+)"')


@dataclass(frozen=True)
class Reads:
    """What a query names, read from its text after substitution."""

    bucket: str | None
    measurements: frozenset[str]
    fields: frozenset[str]  # empty: any field

    @classmethod
    def of(cls, flux: str) -> Reads:
        bucket = BUCKET.search(flux)
        return cls(
            bucket.group(1) if bucket else None,
            frozenset(MEASUREMENT.findall(flux)),
            frozenset(FIELD.findall(flux)),
        )
