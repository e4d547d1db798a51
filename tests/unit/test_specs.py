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
