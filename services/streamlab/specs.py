"""Dataset specs: one YAML file per dataset in datasets/, the only description of a dataset.

The streamer, the provisioner, the Spark job and the dashboard generator all read a dataset
through `load_spec` / `load_specs`. A spec that does not validate raises `SpecError` naming
the file, the key and what is expected there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
FIELD_TYPES = ("float", "int", "bool", "string")
TIMESTAMP_FORMATS = ("iso8601", "epoch_s", "epoch_ms")
TIMESTAMP_MODES = ("send_time", "original", "scaled")
RATE_MODES = ("rows_per_second", "interval_s", "speedup")
SOURCE_TYPES = ("csv", "http", "synthetic")
GENERATOR_KINDS = ("random_walk", "uniform", "sine", "choice", "counter")
AGG_FUNCTIONS = ("avg", "min", "max", "sum", "count")
ALERT_OPERATORS = (">", ">=", "<", "<=", "==", "!=")
RESERVED_COLUMNS = ("ts", "original_ts", "seq", "sent_ms")


class SpecError(ValueError):
    """A dataset spec is invalid. The message names the file, the key and the fix."""

    def __init__(self, file: Path | str, key: str, expected: str) -> None:
        super().__init__(f"{file}: {key}: {expected}")
        self.file, self.key, self.expected = str(file), key, expected


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    optional: bool = False


@dataclass(frozen=True)
class TimestampSpec:
    column: str
    format: str  # a strptime pattern, or one of TIMESTAMP_FORMATS


@dataclass(frozen=True)
class RateSpec:
    mode: str  # one of RATE_MODES
    value: float


@dataclass(frozen=True)
class CsvSource:
    path: Path
    at_end: str = "loop"  # loop | stop
    type: str = "csv"


@dataclass(frozen=True)
class HttpSource:
    url: str
    poll_interval_s: float = 10.0
    records_path: str = ""
    filter: Mapping[str, Any] = field(default_factory=dict)
    dedupe: bool = True
    timeout_s: float = 5.0
    type: str = "http"


@dataclass(frozen=True)
class Generator:
    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class SyntheticSource:
    tag_values: Mapping[str, tuple[str, ...]]
    generators: Mapping[str, Generator]
    seed: int = 0
    rows: int | None = None  # None: endless
    type: str = "synthetic"


Source = CsvSource | HttpSource | SyntheticSource


@dataclass(frozen=True)
class Aggregation:
    window: str
    functions: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    name: str
    field: str
    operator: str
    value: float


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    file: Path
    description: str
    source: Source
    timestamp: TimestampSpec | None
    key: str | None
    tags: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    partitions: int
    rate: RateSpec
    timestamp_mode: str
    scale: float | None  # speed-up factor for timestamp_mode == "scaled"
    autostart: bool
    aggregations: tuple[Aggregation, ...] = ()
    alerts: tuple[Alert, ...] = ()

    @property
    def raw_topic(self) -> str:
        return f"{self.name}.raw"

    @property
    def deadletter_topic(self) -> str:
        return f"{self.name}.deadletter"

    @property
    def alerts_topic(self) -> str:
        return f"{self.name}.alerts"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def load_specs(folder: Path, env: Mapping[str, str] | None = None) -> dict[str, DatasetSpec]:
    """Every datasets/*.yaml, keyed by dataset name. Duplicated names are an error."""
    if not folder.is_dir():
        raise SpecError(folder, "(folder)", "the datasets folder does not exist: set DATASETS_DIR")
    specs: dict[str, DatasetSpec] = {}
    for file in sorted(folder.glob("*.yaml")):
        spec = load_spec(file, env)
        if spec.name in specs:
            other = specs[spec.name].file.name
            raise SpecError(file, "name", f"'{spec.name}' is already used by {other}: rename one")
        specs[spec.name] = spec
    return specs


def load_spec(file: Path, env: Mapping[str, str] | None = None) -> DatasetSpec:
    try:
        document = yaml.safe_load(file.read_text())
    except yaml.YAMLError as error:
        raise SpecError(file, "(yaml)", f"not valid YAML: {error}") from None
    return parse_spec(document, file, env or {})


def parse_spec(document: Any, file: Path, env: Mapping[str, str]) -> DatasetSpec:
    reader = _Reader(file, env)
    doc = reader.mapping(document, "(top level)")
    reader.only_keys(doc, "(top level)", _TOP_KEYS)
    name = reader.name(doc.get("name"), "name")
    source = _parse_source(reader, doc.get("source"))
    fields = _parse_fields(reader, doc.get("fields"))
    tags = tuple(reader.name(t, f"tags[{i}]") for i, t in enumerate(doc.get("tags") or []))
    timestamp = _parse_timestamp(reader, doc.get("timestamp"), source)
    key = doc.get("key")
    if key is not None:
        reader.check(key in tags or key in {f.name for f in fields}, "key", "a tag or field name")
    _check_columns(reader, tags, fields, timestamp)
    replay = reader.mapping(doc.get("replay") or {}, "replay")
    reader.only_keys(replay, "replay", ("timestamps", "speedup"))
    mode = replay.get("timestamps", "send_time")
    reader.check(mode in TIMESTAMP_MODES, "replay.timestamps", f"one of {TIMESTAMP_MODES}")
    if mode != "send_time":
        reader.check(timestamp is not None, "replay.timestamps", "send_time without timestamp")
    scale = replay.get("speedup")
    if mode == "scaled":
        scale = reader.positive(scale, "replay.speedup")
    spec = DatasetSpec(
        name=name,
        file=file,
        description=str(doc.get("description", "")),
        source=source,
        timestamp=timestamp,
        key=key,
        tags=tags,
        fields=fields,
        partitions=int(
            reader.positive(_topic(reader, doc).get("partitions", 1), "topic.partitions")
        ),
        rate=_parse_rate(reader, doc.get("rate"), timestamp),
        timestamp_mode=mode,
        scale=scale,
        autostart=reader.boolean(doc.get("autostart", True), "autostart"),
        aggregations=_parse_aggregations(reader, doc.get("aggregations"), fields),
        alerts=_parse_alerts(reader, doc.get("alerts"), fields),
    )
    _check_synthetic(reader, spec)
    return spec


_TOP_KEYS = (
    "name",
    "description",
    "source",
    "timestamp",
    "key",
    "tags",
    "fields",
    "topic",
    "rate",
    "replay",
    "autostart",
    "aggregations",
    "alerts",
)


class _Reader:
    """Small validators that raise SpecError with the file and the dotted key."""

    def __init__(self, file: Path, env: Mapping[str, str]) -> None:
        self.file, self.env = file, env

    def fail(self, key: str, expected: str) -> SpecError:
        return SpecError(self.file, key, expected)

    def check(self, condition: bool, key: str, expected: str) -> None:
        if not condition:
            raise self.fail(key, f"expected {expected}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        return value

    def only_keys(self, value: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(allowed)}")

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not NAME_PATTERN.match(value):
            raise self.fail(key, f"expected a lower_snake_case name, got {value!r}")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return self.expand(value, key)

    def positive(self, value: Any, key: str) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if not ok or value != value or value == float("inf"):
            raise self.fail(key, f"expected a positive number, got {value!r}")
        return float(value)

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def expand(self, value: str, key: str) -> str:
        """${VAR} and ${VAR:-default} from the settings, so a spec can name a setting."""

        def replace(match: re.Match[str]) -> str:
            var, default = match.group(1), match.group(2)
            if var in self.env:
                return self.env[var]
            if default is not None:
                return default
            raise self.fail(key, f"${{{var}}} is not set: add {var}=... to settings.env")

        return ENV_REF.sub(replace, value)


def _parse_source(r: _Reader, value: Any) -> Source:
    src = r.mapping(value, "source")
    kind = src.get("type")
    r.check(kind in SOURCE_TYPES, "source.type", f"one of {SOURCE_TYPES}")
    if kind == "csv":
        r.only_keys(src, "source", ("type", "path", "at_end"))
        path = r.file.parent / r.text(src.get("path"), "source.path")
        if not path.is_file():
            raise r.fail("source.path", f"file not found: {path}")
        at_end = src.get("at_end", "loop")
        r.check(at_end in ("loop", "stop"), "source.at_end", "loop or stop")
        return CsvSource(path=path, at_end=at_end)
    if kind == "http":
        allowed = ("type", "url", "poll_interval_s", "records_path", "filter", "dedupe")
        r.only_keys(src, "source", (*allowed, "timeout_s"))
        url = r.text(src.get("url"), "source.url")
        r.check(url.startswith(("http://", "https://")), "source.url", "an http(s):// URL")
        return HttpSource(
            url=url,
            poll_interval_s=r.positive(src.get("poll_interval_s", 10), "source.poll_interval_s"),
            records_path=str(src.get("records_path", "")),
            filter=r.mapping(src.get("filter") or {}, "source.filter"),
            dedupe=r.boolean(src.get("dedupe", True), "source.dedupe"),
            timeout_s=r.positive(src.get("timeout_s", 5), "source.timeout_s"),
        )
    return _parse_synthetic(r, src)


def _parse_synthetic(r: _Reader, src: dict[str, Any]) -> SyntheticSource:
    r.only_keys(src, "source", ("type", "tag_values", "generators", "seed", "rows"))
    tag_values: dict[str, tuple[str, ...]] = {}
    for tag, values in r.mapping(src.get("tag_values") or {}, "source.tag_values").items():
        key = f"source.tag_values.{tag}"
        r.check(isinstance(values, list) and bool(values), key, "a non-empty list of values")
        tag_values[r.name(tag, key)] = tuple(str(v) for v in values)
    generators = {}
    for name, raw in r.mapping(src.get("generators") or {}, "source.generators").items():
        gen = r.mapping(raw, f"source.generators.{name}")
        kind = gen.get("kind")
        r.check(
            kind in GENERATOR_KINDS, f"source.generators.{name}.kind", f"one of {GENERATOR_KINDS}"
        )
        generators[name] = Generator(kind, {k: v for k, v in gen.items() if k != "kind"})
    rows = src.get("rows")
    if rows is not None:
        rows = int(r.positive(rows, "source.rows"))
    return SyntheticSource(tag_values, generators, int(src.get("seed", 0)), rows)


def _parse_fields(r: _Reader, value: Any) -> tuple[FieldSpec, ...]:
    raw = r.mapping(value, "fields")
    r.check(bool(raw), "fields", "at least one field")
    fields = []
    for name, declared in raw.items():
        key = f"fields.{name}"
        r.name(name, key)
        if isinstance(declared, str):
            declared = {"type": declared}
        decl = r.mapping(declared, key)
        r.only_keys(decl, key, ("type", "optional"))
        r.check(decl.get("type") in FIELD_TYPES, f"{key}.type", f"one of {FIELD_TYPES}")
        optional = r.boolean(decl.get("optional", False), f"{key}.optional")
        fields.append(FieldSpec(name, decl["type"], optional))
    return tuple(fields)


def _parse_timestamp(r: _Reader, value: Any, source: Source) -> TimestampSpec | None:
    if value is None:
        r.check(source.type == "synthetic", "timestamp", "a timestamp mapping for csv/http data")
        return None
    ts = r.mapping(value, "timestamp")
    r.only_keys(ts, "timestamp", ("column", "format"))
    column = r.name(ts.get("column"), "timestamp.column")
    fmt = r.text(ts.get("format"), "timestamp.format")
    ok = fmt in TIMESTAMP_FORMATS or "%" in fmt
    r.check(
        ok, "timestamp.format", f"a strptime pattern like %Y-%m-%d or one of {TIMESTAMP_FORMATS}"
    )
    return TimestampSpec(column, fmt)


def _check_columns(r, tags, fields: tuple[FieldSpec, ...], ts: TimestampSpec | None) -> None:
    names = [*tags, *(f.name for f in fields)]
    if ts is not None:
        names.append(ts.column)
    for name in names:
        r.check(name not in RESERVED_COLUMNS, name, f"a name other than {RESERVED_COLUMNS}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    r.check(not duplicates, "fields", f"each column once (repeated: {', '.join(duplicates)})")


def _topic(r: _Reader, doc: dict[str, Any]) -> dict[str, Any]:
    topic = r.mapping(doc.get("topic") or {}, "topic")
    r.only_keys(topic, "topic", ("partitions",))
    return topic


def _parse_rate(r: _Reader, value: Any, ts: TimestampSpec | None) -> RateSpec:
    rate = r.mapping(value if value is not None else {"rows_per_second": 10}, "rate")
    r.only_keys(rate, "rate", RATE_MODES)
    r.check(len(rate) == 1, "rate", f"exactly one of {RATE_MODES}")
    mode, amount = next(iter(rate.items()))
    if mode == "speedup":
        r.check(ts is not None, "rate.speedup", "a timestamp column to scale")
    return RateSpec(mode, r.positive(amount, f"rate.{mode}"))


def _parse_aggregations(r: _Reader, value: Any, fields) -> tuple[Aggregation, ...]:
    numeric = {f.name for f in fields if f.type in ("float", "int")}
    out = []
    for i, raw in enumerate(value or []):
        key = f"aggregations[{i}]"
        agg = r.mapping(raw, key)
        r.only_keys(agg, key, ("window", "functions", "fields"))
        window = r.text(agg.get("window"), f"{key}.window")
        r.check(
            bool(re.fullmatch(r"\d+ (seconds|minutes|hours)", window)),
            f"{key}.window",
            "a window like '1 minutes' or '30 seconds'",
        )
        functions = tuple(agg.get("functions") or ())
        r.check(
            bool(functions) and set(functions) <= set(AGG_FUNCTIONS),
            f"{key}.functions",
            f"a list from {AGG_FUNCTIONS}",
        )
        names = tuple(agg.get("fields") or sorted(numeric))
        r.check(set(names) <= numeric, f"{key}.fields", f"numeric fields from {sorted(numeric)}")
        out.append(Aggregation(window, functions, names))
    return tuple(out)


def _parse_alerts(r: _Reader, value: Any, fields) -> tuple[Alert, ...]:
    numeric = {f.name for f in fields if f.type in ("float", "int")}
    out = []
    for i, raw in enumerate(value or []):
        key = f"alerts[{i}]"
        alert = r.mapping(raw, key)
        r.only_keys(alert, key, ("name", "field", "operator", "value"))
        r.check(alert.get("field") in numeric, f"{key}.field", f"one of {sorted(numeric)}")
        r.check(
            alert.get("operator") in ALERT_OPERATORS, f"{key}.operator", f"one of {ALERT_OPERATORS}"
        )
        v = alert.get("value")
        r.check(isinstance(v, int | float) and not isinstance(v, bool), f"{key}.value", "a number")
        out.append(
            Alert(
                r.name(alert.get("name"), f"{key}.name"),
                alert["field"],
                alert["operator"],
                float(v),
            )
        )
    return tuple(out)


def _check_synthetic(r: _Reader, spec: DatasetSpec) -> None:
    if not isinstance(spec.source, SyntheticSource):
        return
    for tag in spec.tags:
        r.check(tag in spec.source.tag_values, f"source.tag_values.{tag}", "values for every tag")
    for f in spec.fields:
        r.check(
            f.name in spec.source.generators,
            f"source.generators.{f.name}",
            "a generator for every field",
        )
