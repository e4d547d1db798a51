"""The Spark side of a dataset spec: derived columns, lookups, `where`, alerts, aggregations
and the topics they publish to.

Spark SQL is the expression language. Here an expression is only checked to be a non-empty
string and the columns a spec names to exist; the Spark job checks every expression with
Spark's own parser and analyzer when it starts (sparkjob.expressions).

Columns come in this order, each step seeing the ones before it: the spec's tags and fields
(and ts, original_ts, seq), then `derive` in the order written, then each lookup's columns,
then `where`. Alerts and aggregations see all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .spec_reader import Reader

FIELD_TYPES = ("float", "int", "bool", "string")
AGG_FUNCTIONS = (
    "avg", "min", "max", "sum", "count", "approx_count_distinct", "first", "last",
)  # fmt: skip
NUMERIC_FUNCTIONS = ("avg", "sum")
AGG_OUTPUTS = ("influxdb", "kafka")
AGG_ROWS = ("all", "alerts")
ALERT_OPERATORS = (">", ">=", "<", "<=", "==", "!=")
LOOKUP_FORMATS = ("csv", "parquet")
ON_MISS = ("keep", "drop")
WINDOW = re.compile(r"(\d+) (seconds|minutes|hours)")
# Names a topic or query of the dataset already has: `<dataset>.<name>`.
RESERVED_OUTPUTS = ("raw", "deadletter", "alerts", "enriched", "raw_layer", "sinks")
# Columns every row has besides its tags and fields: expressions may use them.
ROW_COLUMNS = ("ts", "original_ts", "seq")


@dataclass(frozen=True)
class Derived:
    """A column computed by a Spark SQL expression; `tag`: written to InfluxDB as a tag;
    `type` (a field type): the value cast to it, else the type Spark gives the expression."""

    name: str
    expr: str
    tag: bool = False
    type: str | None = None


@dataclass(frozen=True)
class Lookup:
    """Dimension columns joined (broadcast) on `key` from a small table: a CSV or Parquet
    file beside the spec, or an hdfs:// path."""

    name: str  # names the lookup in messages and progress: the table's file name by default
    table: str  # a local file path (checked to exist) or an hdfs:// URI
    format: str  # one of LOOKUP_FORMATS
    key: str  # the stream's column
    table_key: str  # the table's column it equals
    columns: tuple[str, ...]  # added as fields
    tags: tuple[str, ...] = ()  # added as tags
    on_miss: str = "keep"  # keep: the row goes on with nulls; drop: the row is left out

    @property
    def added(self) -> tuple[str, ...]:
        return (*self.columns, *self.tags)


@dataclass(frozen=True)
class Alert:
    """A rule over a row: `field operator value`, or a Spark SQL boolean `when`."""

    name: str
    field: str | None = None
    operator: str | None = None
    value: float | None = None
    when: str | None = None
    columns: tuple[str, ...] = ()  # carried by the alert's message

    @property
    def rule(self) -> str:
        return self.when or f"{self.field} {self.operator} {self.value:g}"


@dataclass(frozen=True)
class Aggregation:
    """Windowed aggregates grouped by columns, to InfluxDB (`<dataset>_agg`) and/or the
    topic `<dataset>.<name>`."""

    window: str
    functions: tuple[str, ...]
    fields: tuple[str, ...]
    name: str = "agg0"
    group_by: tuple[str, ...] = ()
    slide: str | None = None
    rows: str = "all"  # all | alerts: only the rows that fire an alert
    count: str | None = None  # a column counting the rows of each group
    outputs: tuple[str, ...] = ("influxdb",)

    @property
    def columns(self) -> tuple[str, ...]:
        """The aggregate columns, `<field>_<function>`, then the count column."""
        named = tuple(f"{field}_{fn}" for field in self.fields for fn in self.functions)
        return (*named, self.count) if self.count else named


@dataclass(frozen=True)
class Processing:
    derived: tuple[Derived, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    where: str | None = None
    enriched: bool = False
    alerts: tuple[Alert, ...] = ()
    aggregations: tuple[Aggregation, ...] = ()


PROCESSING_KEYS = ("derive", "lookups", "where", "enriched", "alerts", "aggregations")


def parse_processing(
    r: Reader, doc: Mapping[str, Any], tags: tuple[str, ...], types: Mapping[str, str]
) -> Processing:
    """The spec's processing keys; types: each field's spec type."""
    known = [*ROW_COLUMNS, *tags, *types]
    derived = _parse_derive(r, doc.get("derive"), known)
    lookups = _parse_lookups(r, doc.get("lookups"), known)
    where = _expression(r, doc.get("where"), "where")
    alerts = _parse_alerts(r, doc.get("alerts"), known, types)
    aggregations = _parse_aggregations(r, doc.get("aggregations"), known, tags, types)
    return Processing(
        derived=derived,
        lookups=lookups,
        where=where,
        enriched=r.boolean(doc.get("enriched", False), "enriched"),
        alerts=alerts,
        aggregations=aggregations,
    )


def _expression(r: Reader, value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise r.fail(key, f"expected a Spark SQL expression (a non-empty string), got {value!r}")
    return value


def _new_column(r: Reader, name: Any, key: str, known: list[str]) -> str:
    name = r.name(name, key)
    r.check(
        name not in known,
        key,
        f"a new column name: '{name}' is already a column ({', '.join(known)})",
    )
    known.append(name)
    return name


def _known(r: Reader, names: tuple[str, ...], key: str, known: list[str]) -> None:
    for i, name in enumerate(names):
        r.check(name in known, f"{key}[{i}]", f"a column of the dataset ({', '.join(known)})")


def _parse_derive(r: Reader, value: Any, known: list[str]) -> tuple[Derived, ...]:
    """`name: expression` or `name: {expr, tag, type}`, in order: each may use those
    before it."""
    out = []
    for name, raw in r.mapping(value or {}, "derive").items():
        key = f"derive.{name}"
        decl = raw if isinstance(raw, dict) else {"expr": raw}
        r.only_keys(decl, key, ("expr", "tag", "type"))
        expr = _expression(r, decl.get("expr"), f"{key}.expr" if isinstance(raw, dict) else key)
        r.check(expr is not None, key, "a Spark SQL expression or {expr, tag, type}")
        tag = r.boolean(decl.get("tag", False), f"{key}.tag")
        kind = decl.get("type")
        r.check(kind in (None, *FIELD_TYPES), f"{key}.type", f"one of {FIELD_TYPES}")
        out.append(Derived(_new_column(r, name, key, known), expr, tag, kind))
    return tuple(out)


_LOOKUP_KEYS = ("name", "table", "format", "key", "table_key", "columns", "tags", "on_miss")


def _parse_lookups(r: Reader, value: Any, known: list[str]) -> tuple[Lookup, ...]:
    r.check(isinstance(value or [], list), "lookups", "a list of {table, key, columns}")
    out: list[Lookup] = []
    for i, raw in enumerate(value or []):
        key = f"lookups[{i}]"
        lookup = r.mapping(raw, key)
        r.only_keys(lookup, key, _LOOKUP_KEYS)
        table, fmt = _lookup_table(r, lookup, key)
        default_name = Path(table).name.split(".")[0].lower()
        name = r.name(lookup.get("name", default_name), f"{key}.name")
        r.check(name not in {x.name for x in out}, f"{key}.name", f"a name not used twice: {name}")
        stream_key = r.name(lookup.get("key"), f"{key}.key")
        r.check(stream_key in known, f"{key}.key", f"a column of the dataset ({', '.join(known)})")
        columns = r.names(lookup.get("columns") or [], f"{key}.columns")
        tags = r.names(lookup.get("tags") or [], f"{key}.tags")
        r.check(bool(columns or tags), f"{key}.columns", "the table's columns to add")
        for j, column in enumerate((*columns, *tags)):
            _new_column(r, column, f"{key}.columns[{j}]", known)
        on_miss = lookup.get("on_miss", "keep")
        r.check(on_miss in ON_MISS, f"{key}.on_miss", f"one of {ON_MISS}")
        table_key = r.name(lookup.get("table_key", stream_key), f"{key}.table_key")
        out.append(Lookup(name, table, fmt, stream_key, table_key, columns, tags, on_miss))
    return tuple(out)


def _lookup_table(r: Reader, lookup: Mapping[str, Any], key: str) -> tuple[str, str]:
    """The table's location (a file beside the spec, or an hdfs:// URI) and format."""
    table = r.text(lookup.get("table"), f"{key}.table")
    fmt = lookup.get("format") or ("parquet" if table.endswith(".parquet") else "csv")
    r.check(fmt in LOOKUP_FORMATS, f"{key}.format", f"one of {LOOKUP_FORMATS}")
    if table.startswith("hdfs://"):
        return table, fmt
    path = r.file.parent / table
    if not path.exists():
        raise r.fail(f"{key}.table", f"file not found: {path} (a CSV or Parquet file, or hdfs://)")
    return str(path), fmt


def _parse_alerts(
    r: Reader, value: Any, known: list[str], types: Mapping[str, str]
) -> tuple[Alert, ...]:
    numeric = sorted(n for n, t in types.items() if t in ("float", "int"))
    out: list[Alert] = []
    for i, raw in enumerate(value or []):
        key = f"alerts[{i}]"
        alert = r.mapping(raw, key)
        r.only_keys(alert, key, ("name", "field", "operator", "value", "when", "columns"))
        name = r.name(alert.get("name"), f"{key}.name")
        r.check(name not in {a.name for a in out}, f"{key}.name", f"a name not used twice: {name}")
        columns = r.names(alert.get("columns") or [], f"{key}.columns")
        _known(r, columns, f"{key}.columns", known)
        if "when" in alert:
            r.check(
                not {"field", "operator", "value"} & set(alert),
                f"{key}.when",
                "either `when` or field/operator/value, not both",
            )
            out.append(
                Alert(name, when=_expression(r, alert["when"], f"{key}.when"), columns=columns)
            )
            continue
        r.check(alert.get("field") in numeric, f"{key}.field", f"one of {numeric} (or use `when`)")
        operator = alert.get("operator")
        r.check(operator in ALERT_OPERATORS, f"{key}.operator", f"one of {ALERT_OPERATORS}")
        v = alert.get("value")
        r.check(isinstance(v, int | float) and not isinstance(v, bool), f"{key}.value", "a number")
        out.append(Alert(name, alert["field"], operator, float(v), columns=columns))
    return tuple(out)


_AGG_KEYS = (
    "name", "window", "slide", "group_by", "functions", "fields", "count", "rows", "outputs",
)  # fmt: skip


def _parse_aggregations(
    r: Reader, value: Any, known: list[str], tags: tuple[str, ...], types: Mapping[str, str]
) -> tuple[Aggregation, ...]:
    numeric = tuple(sorted(n for n, t in types.items() if t in ("float", "int")))
    out: list[Aggregation] = []
    for i, raw in enumerate(value or []):
        key = f"aggregations[{i}]"
        agg = r.mapping(raw, key)
        r.only_keys(agg, key, _AGG_KEYS)
        name = r.name(agg.get("name", f"agg{i}"), f"{key}.name")
        r.check(
            name not in RESERVED_OUTPUTS, f"{key}.name", f"a name other than {RESERVED_OUTPUTS}"
        )
        r.check(name not in {a.name for a in out}, f"{key}.name", f"a name not used twice: {name}")
        functions = tuple(agg.get("functions") or ())
        r.check(
            set(functions) <= set(AGG_FUNCTIONS), f"{key}.functions", f"a list from {AGG_FUNCTIONS}"
        )
        fields = r.names(agg.get("fields") or list(numeric), f"{key}.fields")
        _known(r, fields, f"{key}.fields", known)
        _check_numeric(r, key, functions, fields, types)
        count = None if agg.get("count") is None else r.name(agg["count"], f"{key}.count")
        r.check(bool(functions and fields) or count is not None, f"{key}.functions",
                f"a list from {AGG_FUNCTIONS}, with fields (or `count: <column>` alone)")  # fmt: skip
        group_by = r.names(agg.get("group_by", list(tags)), f"{key}.group_by")
        _known(r, group_by, f"{key}.group_by", known)
        rows = agg.get("rows", "all")
        r.check(
            rows in AGG_ROWS, f"{key}.rows", f"one of {AGG_ROWS} (alerts: rows firing an alert)"
        )
        outputs = tuple(r.names(agg.get("outputs", ["influxdb"]), f"{key}.outputs"))
        r.check(bool(outputs) and set(outputs) <= set(AGG_OUTPUTS), f"{key}.outputs",
                f"a list from {AGG_OUTPUTS}")  # fmt: skip
        window = _window(r, agg.get("window"), f"{key}.window")
        slide = None if agg.get("slide") is None else _window(r, agg["slide"], f"{key}.slide")
        if slide is not None:
            r.check(seconds(slide) <= seconds(window), f"{key}.slide", "no longer than the window")
        out.append(Aggregation(window, functions if fields else (), fields if functions else (),
                               name, group_by, slide, rows, count, outputs))  # fmt: skip
    return tuple(out)


def _check_numeric(r: Reader, key: str, functions, fields, types: Mapping[str, str]) -> None:
    """avg and sum of a field the spec types as string or bool are refused here; columns
    derived or looked up are typed by Spark, which refuses them when the job starts."""
    for fn in set(functions) & set(NUMERIC_FUNCTIONS):
        for name in fields:
            r.check(
                types.get(name, "float") in ("float", "int"),
                f"{key}.fields",
                f"numeric fields for {fn} ('{name}' is a {types.get(name)} field)",
            )


def _window(r: Reader, value: Any, key: str) -> str:
    window = r.text(value, key)
    r.check(bool(WINDOW.fullmatch(window)), key, "a window like '1 minutes' or '30 seconds'")
    return window


_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}


def seconds(window: str) -> int:
    """'1 minutes' -> 60."""
    amount, unit = WINDOW.fullmatch(window).groups()
    return int(amount) * _UNIT_SECONDS[unit]
