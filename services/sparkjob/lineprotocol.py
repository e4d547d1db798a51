"""InfluxDB line protocol for dataset rows: measurement = dataset, tags and fields from the spec.

Plain Python with no Spark import, so executors and unit tests use the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "\\": "\\\\"})
_TAG_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\=", "\\": "\\\\"})
_STRING_ESCAPES = str.maketrans({'"': '\\"', "\\": "\\\\"})

# Rows of one series within the same microsecond stay distinct points: the time in ns is
# the microsecond timestamp plus seq modulo 1000. The same row always maps to the same
# point, so a re-run of a micro-batch overwrites instead of duplicating.
SEQ_SLOTS = 1000


def point_time_ns(ts_us: int, seq: int) -> int:
    return ts_us * 1000 + seq % SEQ_SLOTS


def _field_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return '"' + str(value).translate(_STRING_ESCAPES).replace("\n", "\\n") + '"'


def line(
    measurement: str, tags: Mapping[str, Any], fields: Mapping[str, Any], time_ns: int
) -> str | None:
    """One line, or None when no field has a value (InfluxDB rejects a point without fields)."""
    field_text = ",".join(
        f"{k.translate(_TAG_ESCAPES)}={v}"
        for k, v in ((k, _field_value(v)) for k, v in fields.items())
        if v is not None
    )
    if not field_text:
        return None
    tag_text = "".join(
        f",{k.translate(_TAG_ESCAPES)}={str(v).translate(_TAG_ESCAPES)}"
        for k, v in sorted(tags.items())
        if v is not None and str(v) != ""
    )
    return f"{measurement.translate(_MEASUREMENT_ESCAPES)}{tag_text} {field_text} {time_ns}"


def lines(
    measurement: str,
    rows: Iterable[Mapping[str, Any]],
    tag_names: Iterable[str],
    field_names: Iterable[str],
) -> list[str]:
    """Rows with ts_us and seq columns to lines; rows without any field value are skipped."""
    tag_names, field_names = tuple(tag_names), tuple(field_names)
    out = []
    for row in rows:
        text = line(
            measurement,
            {t: row[t] for t in tag_names},
            {f: row[f] for f in field_names},
            point_time_ns(row["ts_us"], row["seq"]),
        )
        if text is not None:
            out.append(text)
    return out
