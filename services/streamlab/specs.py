"""Dataset specs: one YAML file per dataset in datasets/, the only description of a dataset.

The streamer, the provisioner, the Spark job and the dashboard generator all read a dataset
through `load_spec` / `load_specs`. A spec that does not validate raises `SpecError` naming
the file, the key and what is expected there.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jmespath
import yaml

from .spec_processing import (
    FIELD_TYPES,
    PROCESSING_KEYS,
    Aggregation,
    Alert,
    Derived,
    Lookup,
    parse_processing,
)
from .spec_reader import Reader, SpecError, expand

__all__ = ["Aggregation", "Alert", "DatasetSpec", "Derived", "Lookup", "SpecError", "expand"]

TIMESTAMP_FORMATS = ("iso8601", "epoch_s", "epoch_ms")
TIMESTAMP_MODES = ("send_time", "original", "scaled")
RATE_MODES = ("rows_per_second", "interval_s", "speedup")
SOURCE_TYPES = ("csv", "jsonl", "http", "synthetic")
COMPRESSIONS = ("infer", "none", "gzip", "zip", "bz2", "xz")
GENERATOR_KINDS = ("random_walk", "uniform", "sine", "choice", "counter")
RESERVED_COLUMNS = ("ts", "original_ts", "seq", "sent_ms", "source")
# JMESPath nodes that give true or false (a filter must be one of them).
BOOLEAN_NODES = ("comparator", "and_expression", "or_expression", "not_expression")
BOOLEAN_FUNCTIONS = ("contains", "starts_with", "ends_with")


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
class Extract:
    """Where a column's value comes from: a CSV column of another name (`source`), or a
    JMESPath expression over a JSON record (`path`); neither: the record's key `name`."""

    source: str | None = None
    path: str | None = None


Filter = Mapping[str, Any] | str  # equality per key, or a JMESPath boolean expression


@dataclass(frozen=True)
class RateSpec:
    mode: str  # one of RATE_MODES
    value: float


@dataclass(frozen=True)
class CsvSource:
    """Read with pandas, chunk_rows rows at a time (bounded memory for any file size)."""

    path: Path
    at_end: str = "loop"  # loop | stop
    delimiter: str = ","
    compression: str = "infer"  # one of COMPRESSIONS; infer: from the file name
    encoding: str = "utf-8"
    decimal: str = "."
    thousands: str | None = None
    comment: str | None = None
    skiprows: int = 0
    na_values: tuple[str, ...] = ()
    chunk_rows: int = 10_000
    filter: Filter = field(default_factory=dict)
    type: str = "csv"


@dataclass(frozen=True)
class JsonlSource:
    """One JSON document a line (gzip and the like by name or `compression`); records_path
    picks the records inside each document."""

    path: Path
    at_end: str = "loop"
    compression: str = "infer"
    records_path: str = ""
    filter: Filter = field(default_factory=dict)
    type: str = "jsonl"


@dataclass(frozen=True)
class HttpSource:
    url: str
    poll_interval_s: float = 10.0
    records_path: str = ""
    filter: Filter = field(default_factory=dict)
    dedupe: bool = True
    timeout_s: float = 5.0
    headers: Mapping[str, str] = field(default_factory=dict)  # ${VAR} expanded when polling
    backoff_max_s: float = 300.0
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


Source = CsvSource | JsonlSource | HttpSource | SyntheticSource


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
    extracts: Mapping[str, Extract] = field(default_factory=dict)  # column -> where from
    key_path: str | None = None  # the Kafka key by JMESPath, when it is no tag or field
    keep_source: bool = False  # the record as received travels with the row (`source`)
    derived: tuple[Derived, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    where: str | None = None  # a Spark SQL boolean: the rows that go on after lookups
    enriched: bool = False  # the rows after derive and lookups to `<dataset>.enriched`

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
    def enriched_topic(self) -> str:
        return f"{self.name}.enriched"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def topics(self) -> tuple[tuple[str, str], ...]:
        """(topic, kind) of every topic the dataset uses: raw, deadletter, alerts, enriched
        (with `enriched`) and aggregate (an aggregation with a kafka output)."""
        topics = [(self.raw_topic, "raw"), (self.deadletter_topic, "deadletter"),
                  (self.alerts_topic, "alerts")]  # fmt: skip
        if self.enriched:
            topics.append((self.enriched_topic, "enriched"))
        topics += [(f"{self.name}.{a.name}", "aggregate") for a in self.aggregations
                   if "kafka" in a.outputs]  # fmt: skip
        return tuple(topics)

    @property
    def point_tags(self) -> tuple[str, ...]:
        """The tags of the dataset's points: its own, then derived and looked-up ones."""
        derived = tuple(d.name for d in self.derived if d.tag)
        return (*self.tags, *derived, *(t for x in self.lookups for t in x.tags))

    @property
    def point_fields(self) -> tuple[str, ...]:
        """The fields of the dataset's points: its own, then derived and looked-up ones."""
        derived = tuple(d.name for d in self.derived if not d.tag)
        return (*self.field_names, *derived, *(c for x in self.lookups for c in x.columns))


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
    reader = Reader(file, env)
    doc = reader.mapping(document, "(top level)")
    reader.only_keys(doc, "(top level)", _TOP_KEYS)
    name = reader.name(doc.get("name"), "name")
    source = _parse_source(reader, doc.get("source"))
    extracts: dict[str, Extract] = {}
    fields = _parse_fields(reader, doc.get("fields"), source, extracts)
    tags = _parse_tags(reader, doc.get("tags"), source, extracts)
    timestamp = _parse_timestamp(reader, doc.get("timestamp"), source, extracts)
    key, key_path = _parse_key(reader, doc.get("key"), tags, fields, source)
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
        extracts=extracts,
        key_path=key_path,
        keep_source=reader.boolean(doc.get("keep_source", False), "keep_source"),
        **vars(parse_processing(reader, doc, tags, {f.name: f.type for f in fields})),
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
    "keep_source",
    *PROCESSING_KEYS,
)


def _parse_source(r: Reader, value: Any) -> Source:
    src = r.mapping(value, "source")
    kind = src.get("type")
    r.check(kind in SOURCE_TYPES, "source.type", f"one of {SOURCE_TYPES}")
    if kind == "csv":
        return _parse_csv(r, src)
    if kind == "jsonl":
        return _parse_jsonl(r, src)
    if kind == "http":
        return _parse_http(r, src)
    return _parse_synthetic(r, src)


_CSV_KEYS = ("type", "path", "at_end", "delimiter", "compression", "encoding", "decimal",
             "thousands", "comment", "skiprows", "na_values", "chunk_rows", "filter")  # fmt: skip


def _data_file(r: Reader, src: dict[str, Any]) -> Path:
    path = r.file.parent / r.text(src.get("path"), "source.path")
    if not path.is_file():
        raise r.fail("source.path", f"file not found: {path}")
    return path


def _at_end(r: Reader, src: dict[str, Any]) -> str:
    at_end = src.get("at_end", "loop")
    r.check(at_end in ("loop", "stop"), "source.at_end", "loop or stop")
    return at_end


def _compression(r: Reader, src: dict[str, Any]) -> str:
    compression = src.get("compression", "infer")
    r.check(
        compression in COMPRESSIONS,
        "source.compression",
        f"one of {COMPRESSIONS} (infer: from the file name's .gz, .zip, .bz2 or .xz)",
    )
    return compression


def _one_char(r: Reader, value: Any, key: str) -> str | None:
    if value is None:
        return None
    r.check(isinstance(value, str) and len(value) == 1, key, f"one character, got {value!r}")
    return value


def _parse_csv(r: Reader, src: dict[str, Any]) -> CsvSource:
    r.only_keys(src, "source", _CSV_KEYS)
    delimiter = src.get("delimiter", ",")
    ok = isinstance(delimiter, str) and (len(delimiter) == 1 or delimiter == "\\t")
    r.check(ok, "source.delimiter", f"one character such as ',' ';' or a tab, got {delimiter!r}")
    encoding = r.text(src.get("encoding", "utf-8"), "source.encoding")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise r.fail(
            "source.encoding", f"a known encoding (utf-8, latin-1, cp1252...), got {encoding!r}"
        ) from None
    na_values = src.get("na_values") or []
    r.check(isinstance(na_values, list), "source.na_values", "a list of strings read as missing")
    return CsvSource(
        path=_data_file(r, src),
        at_end=_at_end(r, src),
        delimiter="\t" if delimiter == "\\t" else delimiter,
        compression=_compression(r, src),
        encoding=encoding,
        decimal=_one_char(r, src.get("decimal", "."), "source.decimal") or ".",
        thousands=_one_char(r, src.get("thousands"), "source.thousands"),
        comment=_one_char(r, src.get("comment"), "source.comment"),
        skiprows=r.count(src.get("skiprows", 0), "source.skiprows"),
        na_values=tuple(str(v) for v in na_values),
        chunk_rows=int(r.positive(src.get("chunk_rows", 10_000), "source.chunk_rows")),
        filter=_parse_filter(r, src.get("filter")),
    )


def _parse_jsonl(r: Reader, src: dict[str, Any]) -> JsonlSource:
    r.only_keys(src, "source", ("type", "path", "at_end", "compression", "records_path", "filter"))
    records_path = src.get("records_path")
    return JsonlSource(
        path=_data_file(r, src),
        at_end=_at_end(r, src),
        compression=_compression(r, src),
        records_path=""
        if records_path is None
        else r.jmespath(records_path, "source.records_path"),
        filter=_parse_filter(r, src.get("filter")),
    )


def _parse_http(r: Reader, src: dict[str, Any]) -> HttpSource:
    allowed = ("type", "url", "poll_interval_s", "records_path", "filter", "dedupe")
    r.only_keys(src, "source", (*allowed, "timeout_s", "headers", "backoff_max_s"))
    url = r.text(src.get("url"), "source.url")
    r.check(url.startswith(("http://", "https://")), "source.url", "an http(s):// URL")
    records_path = src.get("records_path")
    headers = r.mapping(src.get("headers") or {}, "source.headers")
    for name, header in headers.items():
        r.check(isinstance(header, str), f"source.headers.{name}", "a string (may name ${VAR})")
    return HttpSource(
        url=url,
        poll_interval_s=r.positive(src.get("poll_interval_s", 10), "source.poll_interval_s"),
        records_path=""
        if records_path is None
        else r.jmespath(records_path, "source.records_path"),
        filter=_parse_filter(r, src.get("filter")),
        dedupe=r.boolean(src.get("dedupe", True), "source.dedupe"),
        timeout_s=r.positive(src.get("timeout_s", 5), "source.timeout_s"),
        headers={str(k): v for k, v in headers.items()},
        backoff_max_s=r.positive(src.get("backoff_max_s", 300), "source.backoff_max_s"),
    )


def _parse_filter(r: Reader, value: Any) -> Filter:
    """A mapping (each key equals its value) or a JMESPath expression giving true/false."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    expression = r.jmespath(value, "source.filter")
    root = jmespath.compile(expression).parsed
    boolean = root["type"] in BOOLEAN_NODES or (
        root["type"] == "function_expression" and root["value"] in BOOLEAN_FUNCTIONS
    )
    r.check(
        boolean,
        "source.filter",
        f"a JMESPath expression that gives true or false, such as "
        f"\"contains(['16107', '32017'], stationCode)\" or \"temp > `20` && ok\"; "
        f"{value!r} gives a value, not true or false (or use a mapping of key: value)",
    )
    return expression


def _parse_synthetic(r: Reader, src: dict[str, Any]) -> SyntheticSource:
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


def _extract(
    r: Reader, decl: dict[str, Any], key: str, source: Source, name: str
) -> Extract | None:
    """The column's `source` (csv) or `path` (jsonl, http), checked against the source."""
    column, path = decl.get("source"), decl.get("path")
    if column is not None:
        r.check(
            source.type == "csv",
            f"{key}.source",
            f"`source` (a CSV column name) on a csv source only; a {source.type} source "
            "reaches into its records with `path` (JMESPath)",
        )
        return Extract(source=r.text(column, f"{key}.source"))
    if path is not None:
        r.check(
            source.type in ("jsonl", "http"),
            f"{key}.path",
            f"`path` (JMESPath) on a jsonl or http source only; a {source.type} source's "
            f'rows are flat: name the CSV column with `source: "..."` instead',
        )
        return Extract(path=r.jmespath(path, f"{key}.path"))
    return None


def _parse_fields(
    r: Reader, value: Any, source: Source, extracts: dict[str, Extract]
) -> tuple[FieldSpec, ...]:
    raw = r.mapping(value, "fields")
    r.check(bool(raw), "fields", "at least one field")
    fields = []
    for name, declared in raw.items():
        key = f"fields.{name}"
        r.name(name, key)
        if isinstance(declared, str):
            declared = {"type": declared}
        decl = r.mapping(declared, key)
        r.only_keys(decl, key, ("type", "optional", "source", "path"))
        r.check(decl.get("type") in FIELD_TYPES, f"{key}.type", f"one of {FIELD_TYPES}")
        optional = r.boolean(decl.get("optional", False), f"{key}.optional")
        fields.append(FieldSpec(name, decl["type"], optional))
        if (extract := _extract(r, decl, key, source, name)) is not None:
            extracts[name] = extract
    return tuple(fields)


def _parse_tags(
    r: Reader, value: Any, source: Source, extracts: dict[str, Extract]
) -> tuple[str, ...]:
    """Tags: names, or mappings {name, source | path}."""
    r.check(isinstance(value or [], list), "tags", "a list of tag names")
    tags = []
    for i, item in enumerate(value or []):
        key = f"tags[{i}]"
        if isinstance(item, dict):
            r.only_keys(item, key, ("name", "source", "path"))
            name = r.name(item.get("name"), f"{key}.name")
            if (extract := _extract(r, item, key, source, name)) is not None:
                extracts[name] = extract
        else:
            name = r.name(item, key)
        tags.append(name)
    return tuple(tags)


def _parse_key(
    r: Reader, value: Any, tags, fields, source: Source
) -> tuple[str | None, str | None]:
    """The Kafka key: a tag or field name, or {path: JMESPath} over the record."""
    if value is None:
        return None, None
    if isinstance(value, dict):
        r.only_keys(value, "key", ("path",))
        r.check(source.type in ("jsonl", "http"), "key.path", "a jsonl or http source")
        return None, r.jmespath(value.get("path"), "key.path")
    r.check(value in tags or value in {f.name for f in fields}, "key", "a tag or field name")
    return value, None


def _parse_timestamp(
    r: Reader, value: Any, source: Source, extracts: dict[str, Extract]
) -> TimestampSpec | None:
    if value is None:
        r.check(source.type == "synthetic", "timestamp", "a timestamp mapping for file/http data")
        return None
    ts = r.mapping(value, "timestamp")
    r.only_keys(ts, "timestamp", ("column", "format", "source", "path"))
    column = r.name(ts.get("column"), "timestamp.column")
    if (extract := _extract(r, ts, "timestamp", source, column)) is not None:
        extracts[column] = extract
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


def _topic(r: Reader, doc: dict[str, Any]) -> dict[str, Any]:
    topic = r.mapping(doc.get("topic") or {}, "topic")
    r.only_keys(topic, "topic", ("partitions",))
    return topic


def _parse_rate(r: Reader, value: Any, ts: TimestampSpec | None) -> RateSpec:
    rate = r.mapping(value if value is not None else {"rows_per_second": 10}, "rate")
    r.only_keys(rate, "rate", RATE_MODES)
    r.check(len(rate) == 1, "rate", f"exactly one of {RATE_MODES}")
    mode, amount = next(iter(rate.items()))
    if mode == "speedup":
        r.check(ts is not None, "rate.speedup", "a timestamp column to scale")
    return RateSpec(mode, r.positive(amount, f"rate.{mode}"))


def _check_synthetic(r: Reader, spec: DatasetSpec) -> None:
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
