"""The Spark job's settings and token file: read from the loader, errors that say what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sparkjob.config import JobConfig
from sparkjob.job import start_order
from streamlab.influx import InfluxTarget, read_token
from streamlab.settings import Settings, SettingsError
from streamlab.specs import load_specs

ROOT = Path(__file__).resolve().parents[2]


def test_config_comes_from_settings_env() -> None:
    settings = Settings.load(ROOT / "settings.env", environ={"SPARK_MASTER": "yarn"})
    config = JobConfig.from_settings(settings)
    assert config.master == "yarn"
    assert config.trigger_interval == settings.str("SPARK_TRIGGER_INTERVAL")
    assert config.raw_layer_trigger_interval == settings.str("SPARK_RAW_LAYER_TRIGGER_INTERVAL")
    assert config.kafka_max_poll_records == settings.int("SPARK_KAFKA_MAX_POLL_RECORDS")
    assert config.kafka_fetch_max_wait_ms == settings.int("SPARK_KAFKA_FETCH_MAX_WAIT_MS")
    assert config.token_file == ROOT / settings.str("INFLUX_WRITE_TOKEN_FILE")
    assert config.checkpoint("temps", "sinks").endswith("/checkpoints/temps/sinks")
    assert config.selects("temps")


def test_influx_batch_size_is_a_setting() -> None:
    settings = Settings.load(ROOT / "settings.env", environ={"INFLUX_BATCH_SIZE": "1234"})
    assert JobConfig.from_settings(settings).influx_batch_size == 1234


def test_missing_setting_is_named(tmp_path: Path) -> None:
    lines = (ROOT / "settings.env").read_text().splitlines(keepends=True)
    without = tmp_path / "settings.env"
    without.write_text("".join(x for x in lines if not x.startswith("SPARK_KAFKA_BOOTSTRAP=")))
    message = (
        f"setting SPARK_KAFKA_BOOTSTRAP is not set: add SPARK_KAFKA_BOOTSTRAP=... to {without}"
    )
    with pytest.raises(SettingsError, match=re.escape(message)):
        JobConfig.from_settings(Settings.load(without, environ={}))


def test_token_file_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="run the provisioner"):
        read_token(tmp_path / "missing.token")
    (tmp_path / "empty.token").write_text("\n")
    with pytest.raises(RuntimeError, match="is empty"):
        read_token(tmp_path / "empty.token")
    (tmp_path / "ok.token").write_text("abc123\n")
    assert read_token(tmp_path / "ok.token") == "abc123"


def test_target_never_prints_its_token() -> None:
    assert "s3cret" not in repr(InfluxTarget("http://x", "o", "b", "s3cret", 10))


def test_datasets_that_stream_from_the_start_start_first() -> None:
    settings = Settings.load()
    specs = load_specs(settings.path("DATASETS_DIR"), settings.values)
    order = start_order(specs)
    streaming = [name for name in order if specs[name].autostart]
    assert streaming and order[: len(streaming)] == sorted(streaming)
    assert order[len(streaming) :] == sorted(set(specs) - set(streaming))
