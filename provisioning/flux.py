"""Flux query text for Grafana panels and variables (InfluxDB 2.7).

Buckets are never named in a query: Grafana substitutes a dashboard variable ("${bucket}")
before InfluxDB sees the text. Time comes from Grafana's v.timeRangeStart / v.timeRangeStop
/ v.windowPeriod. Multi-value tag variables go in as JSON arrays (${tag:json}).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

# The most events an annotation query returns (the latest); more only clutter a panel.
ANNOTATION_LIMIT = 500


def string(value: str) -> str:
    """A Flux string literal (names in specs are lower_snake_case; escape anyway)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return f'"{escaped}"'


def string_list(values: Sequence[str]) -> str:
    """A Flux array of string literals: ["a", "b"]."""
    return f"[{', '.join(string(v) for v in values)}]"


def choose(column: str, values: Mapping[str, str], default: str = "") -> str:
    """A string expression: values[r.column] (default when none matches), as a chain of
    if/else (no import, and a handful of values at most)."""
    expression = string(default)
    for key, value in reversed(list(values.items())):
        expression = (
            f"if r[{string(column)}] == {string(key)} then {string(value)} else {expression}"
        )
    return f"({expression})"


def variable(name: str) -> str:
    """A Grafana dashboard variable as a Flux string: "${name}"."""
    return f'"${{{name}}}"'


def any_of(column: str, values: Sequence[str]) -> str:
    """r.column equals one of values."""
    return " or ".join(f"r[{string(column)}] == {string(v)}" for v in values)


def tag_filters(tags: Sequence[tuple[str, str]], optional: Collection[str] = ()) -> list[str]:
    """One filter per (tag, variable name): the tag's value is among the selected ones.

    A point may lack an optional tag (a derived tag's null, a lookup's miss): the variable's
    values, "All" included, come from the points that have it, so such a point passes its
    filter rather than vanish from every panel."""
    filters = []
    for tag, var in tags:
        test = f"contains(value: r[{string(tag)}], set: ${{{var}:json}})"
        if tag in optional:
            test = f"not exists r[{string(tag)}] or {test}"
        filters.append(f"|> filter(fn: (r) => {test})")
    return filters


def select(
    bucket_var: str,
    measurement: str,
    fields: Sequence[str],
    tags: Sequence[tuple[str, str]] = (),
    extra: Sequence[str] = (),
    optional: Collection[str] = (),
) -> list[str]:
    """The start of a query: bucket, time range, measurement, fields, tag variables (a point
    may lack the optional tags)."""
    return [
        f"from(bucket: {variable(bucket_var)})",
        "|> range(start: v.timeRangeStart, stop: v.timeRangeStop)",
        f"|> filter(fn: (r) => r._measurement == {string(measurement)})",
        f"|> filter(fn: (r) => {any_of('_field', fields)})",
        *tag_filters(tags, optional),
        *extra,
    ]


def windowed(fn: str) -> list[str]:
    return [
        f"|> aggregateWindow(every: v.windowPeriod, fn: {fn}, createEmpty: false)",
        f'|> yield(name: "{fn}")',
    ]


def render(steps: Sequence[str]) -> str:
    head, *rest = steps
    return "\n".join([head, *(f"  {step}" for step in rest)])


def tag_values(bucket_var: str, measurements: str | Sequence[str], tag: str) -> str:
    """A variable query: the values of a tag in the visible time range, from one measurement
    or any of several."""
    names = [measurements] if isinstance(measurements, str) else list(measurements)
    predicate = " or ".join(f"r._measurement == {string(name)}" for name in names)
    return "\n".join(
        [
            'import "influxdata/influxdb/schema"',
            "",
            "schema.tagValues(",
            f"  bucket: {variable(bucket_var)},",
            f"  tag: {string(tag)},",
            f"  predicate: (r) => {predicate},",
            "  start: v.timeRangeStart,",
            "  stop: v.timeRangeStop",
            ")",
        ]
    )


def as_annotations(columns: Mapping[str, str], limit: int = ANNOTATION_LIMIT) -> list[str]:
    """The end of an annotation query: one table of _time, title, text and tags.

    Grafana's standard annotation support (the InfluxDB datasource's Flux mode) reads one
    frame; without a _value column each column becomes a field of that name, and events take
    their time from the first time field and title, text and tags (comma-separated) from the
    fields so named. columns: Flux expressions for those set here, over the pivoted fields.
    """
    assignments = ", ".join(f"{name}: {expression}" for name, expression in columns.items())
    return [
        '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
        f"|> map(fn: (r) => ({{r with {assignments}}}))",
        "|> group()",
        '|> keep(columns: ["_time", "title", "text", "tags"])',
        '|> sort(columns: ["_time"])',
        f"|> tail(n: {limit})",
    ]
