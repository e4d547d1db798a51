"""Dataset specs: the shipped ones load, and every kind of mistake names file, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streamlab.settings import Settings
from streamlab.specs import CsvSource, HttpSource, SpecError, load_spec, load_specs

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def test_shipped_specs_load() -> None:
    specs = load_specs(DATASETS, Settings.load().values)
    assert {"temps", "weather", "bikes", "sensors"} <= set(specs)
    temps = specs["temps"]
    assert isinstance(temps.source, CsvSource) and temps.source.path.is_file()
    assert temps.tags == ("station",) and temps.key == "station"
    assert temps.raw_topic == "temps.raw" and temps.deadletter_topic == "temps.deadletter"
    assert isinstance(specs["bikes"].source, HttpSource)


def test_http_url_comes_from_settings() -> None:
    spec = load_spec(DATASETS / "bikes.yaml", {"BIKES_FEED_URL": "http://127.0.0.1:9/feed.json"})
    assert spec.source.url == "http://127.0.0.1:9/feed.json"


def test_unset_setting_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"bikes.yaml: source.url: .*BIKES_FEED_URL.*settings.env"):
        load_spec(DATASETS / "bikes.yaml", {})


def _write(tmp_path: Path, changes: dict, drop: tuple[str, ...] = ()) -> Path:
    base = yaml.safe_load((DATASETS / "temps.yaml").read_text())
    base["source"]["path"] = str((DATASETS / base["source"]["path"]).resolve())
    base.update(changes)
    for key in drop:
        base.pop(key)
    file = tmp_path / "broken.yaml"
    file.write_text(yaml.safe_dump(base))
    return file


@pytest.mark.parametrize(
    ("changes", "key", "expected"),
    [
        ({"name": "Bad-Name"}, "name", "lower_snake_case"),
        ({"fields": {"temp_f": "decimal"}}, "fields.temp_f.type", "one of"),
        ({"fields": {}}, "fields", "at least one field"),
        ({"key": "nope"}, "key", "a tag or field"),
        ({"rate": {"rows_per_second": -1}}, "rate.rows_per_second", "positive number"),
        ({"rate": {"rows_per_second": 1, "interval_s": 2}}, "rate", "exactly one"),
        ({"topic": {"partitions": 0}}, "topic.partitions", "positive number"),
        ({"replay": {"timestamps": "later"}}, "replay.timestamps", "one of"),
        ({"replay": {"timestamps": "scaled"}}, "replay.speedup", "positive number"),
        ({"colour": "blue"}, "(top level).colour", "unknown key"),
        ({"source": {"type": "ftp"}}, "source.type", "one of"),
        ({"source": {"type": "csv", "path": "missing.csv"}}, "source.path", "file not found"),
        ({"timestamp": {"column": "date", "format": "yyyy"}}, "timestamp.format", "strptime"),
        ({"tags": ["station", "temp_f"]}, "fields", "each column once"),
        (
            {"alerts": [{"name": "x", "field": "station", "operator": ">", "value": 1}]},
            "alerts[0].field",
            "one of",
        ),
        (
            {"aggregations": [{"window": "1 fortnight", "functions": ["avg"]}]},
            "aggregations[0].window",
            "window like",
        ),
    ],
)
def test_invalid_spec_names_file_key_and_fix(tmp_path, changes, key, expected) -> None:
    file = _write(tmp_path, changes)
    with pytest.raises(SpecError) as caught:
        load_spec(file)
    assert caught.value.file == str(file)
    assert caught.value.key == key
    assert expected in caught.value.expected
    assert str(file) in str(caught.value)


def test_missing_required_section(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="timestamp"):
        load_spec(_write(tmp_path, {}, drop=("timestamp",)))


def test_not_yaml(tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_text("name: [unclosed")
    with pytest.raises(SpecError, match=r"x.yaml: \(yaml\): not valid YAML"):
        load_spec(file)


def test_duplicate_names_rejected(tmp_path: Path) -> None:
    first = _write(tmp_path, {})
    (tmp_path / "copy.yaml").write_text(first.read_text())
    with pytest.raises(SpecError, match="already used"):
        load_specs(tmp_path)


JSON_SOURCE = {"type": "jsonl", "path": "x.jsonl"}
STATUS_FILTER = "contains(['16107', '32017'], stationCode)"


def _v2(tmp_path: Path, source: dict, **top: object) -> Path:
    """A spec over a JSON Lines (or other) source, with the given top-level keys."""
    (tmp_path / "x.jsonl").write_text('{"a": 1}\n')
    (tmp_path / "x.csv").write_text("a\n1\n")
    document = {
        "name": "x", "source": source, "tags": ["station"],
        "fields": {"bikes": "int"}, "timestamp": {"column": "t", "format": "epoch_s"},
        **top,
    }  # fmt: skip
    file = tmp_path / "v2.yaml"
    file.write_text(yaml.safe_dump(document))
    return file


@pytest.mark.parametrize(
    ("source", "top", "key", "expected"),
    [
        ({**JSON_SOURCE, "records_path": "a.[b"}, {}, "source.records_path", "JMESPath"),
        ({**JSON_SOURCE, "compression": "rar"}, {}, "source.compression", "infer: from the file"),
        ({"type": "csv", "path": "x.csv"}, {"fields": {"bikes": {"type": "int", "path": "a.b"}}},
         "fields.bikes.path", "name the CSV column with `source"),
        (JSON_SOURCE, {"fields": {"bikes": {"type": "int", "source": "Bikes (n)"}}},
         "fields.bikes.source", "reaches into its records with `path`"),
        ({**JSON_SOURCE, "filter": "stationCode"}, {}, "source.filter", "gives true or false"),
        ({**JSON_SOURCE, "filter": "length(@)"}, {}, "source.filter", "gives true or false"),
        ({**JSON_SOURCE, "filter": "a ==="}, {}, "source.filter", "JMESPath"),
        ({"type": "csv", "path": "x.csv", "delimiter": ";;"}, {}, "source.delimiter",
         "one character"),
        ({"type": "csv", "path": "x.csv", "encoding": "klingon"}, {}, "source.encoding",
         "a known encoding"),
        ({"type": "csv", "path": "x.csv", "skiprows": -1}, {}, "source.skiprows", "whole number"),
        ({"type": "http", "url": "http://x", "headers": {"apikey": 5}}, {}, "source.headers.apikey",
         "a string"),
        (JSON_SOURCE, {"tags": [{"name": "station", "path": "a[0"}]}, "tags[0].path", "JMESPath"),
        (JSON_SOURCE, {"timestamp": {"column": "t", "format": "epoch_s", "path": ""}},
         "timestamp.path", "JMESPath"),
        ({"type": "csv", "path": "x.csv"}, {"key": {"path": "a"}}, "key.path", "jsonl or http"),
        (JSON_SOURCE, {"keep_source": "yes"}, "keep_source", "true or false"),
    ],
)  # fmt: skip
def test_v2_mistakes_name_file_key_and_fix(tmp_path, source, top, key, expected) -> None:
    file = _v2(tmp_path, source, **top)
    with pytest.raises(SpecError) as caught:
        load_spec(file)
    assert (caught.value.file, caught.value.key) == (str(file), key)
    assert expected in caught.value.expected, caught.value.expected
    assert str(file) in str(caught.value)


def test_v2_keys_are_read(tmp_path: Path) -> None:
    fields = {"bikes": {"type": "int", "path": "counts[?kind=='all'].n | [0]"}}
    tags = [{"name": "station", "path": "code"}]
    source = {"type": "jsonl", "path": "x.jsonl", "records_path": "d.s[]", "filter": STATUS_FILTER}
    file = _v2(tmp_path, source, fields=fields, tags=tags, keep_source=True, key={"path": "id"})
    spec = load_spec(file)
    assert spec.source.records_path == "d.s[]" and spec.source.filter == STATUS_FILTER
    assert spec.extracts["bikes"].path == "counts[?kind=='all'].n | [0]"
    assert spec.extracts["station"].path == "code" and spec.tags == ("station",)
    assert spec.keep_source and spec.key_path == "id" and spec.key is None
