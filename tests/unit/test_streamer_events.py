"""The streamer's control events: their points, and an event writer that stays off cleanly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from doubles.influxdb.lineprotocol import parse
from streamer.config import EventsConfig, StreamerConfig
from streamer.event_writer import EventWriter
from streamer.events import control, rate_change
from streamer.pacing import Rate
from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.settings import Settings

SCHEMA = MEASUREMENTS["streamer_event"]


def _point(line: str):
    result = parse(line, precision="ns", now_ns=0)
    assert result.errors == []
    (point,) = result.points
    return point


def test_rate_change_point_has_the_schema_names() -> None:
    event = rate_change("weather", Rate("rows_per_second", 10), Rate("rows_per_second", 200))
    point = _point(event.line())
    assert point.measurement == SCHEMA.name
    assert dict(point.tags) == {"stream": "weather", "event": "rate_change"}
    fields = {k: f.value for k, f in point.fields.items()}
    assert set(fields) == SCHEMA.fields and set(dict(point.tags)) == SCHEMA.tags
    assert fields["title"] == "weather: 10 → 200 rows/s"
    assert "10 rows/s to 200 rows/s" in fields["text"]
    assert fields["asked_rows_per_s"] == 200.0 and point.fields["asked_rows_per_s"].kind == "float"
    assert point.time_ns == event.time_ns


def test_interval_is_asked_in_rows_per_second_and_speedup_has_no_asked_rate() -> None:
    interval = rate_change("temps", Rate("rows_per_second", 5), Rate("interval_s", 2))
    assert {k: f.value for k, f in _point(interval.line()).fields.items()}[
        "asked_rows_per_s"
    ] == 0.5
    assert "1 row every 2 s" in interval.title
    speedup = rate_change("temps", Rate("interval_s", 2), Rate("speedup", 60))
    fields = {k: f.value for k, f in _point(speedup.line()).fields.items()}
    assert set(fields) == {"title", "text"} and "60 times faster" in fields["title"]


@pytest.mark.parametrize("action", ["pause", "resume", "restart"])
def test_control_events(action: str) -> None:
    point = _point(control("my stream,1", action, Rate("rows_per_second", 50)).line())
    assert dict(point.tags) == {"stream": "my stream,1", "event": action}
    fields = {k: f.value for k, f in point.fields.items()}
    assert set(fields) == {"title", "text"} and fields["title"].startswith("my stream,1: ")


def test_events_are_off_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "streamer.event_writer")
    writer = EventWriter(StreamerConfig(Path("datasets"), producer=None).events)  # type: ignore[arg-type]
    assert not writer.enabled
    writer.record(control("x", "pause", Rate("rows_per_second", 1)))
    writer.close()
    assert [r.getMessage() for r in caplog.records] == [
        "streamer events: off (INFLUX_URL is empty)"
    ]


def test_events_are_off_until_the_token_file_exists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "streamer.event_writer")
    config = EventsConfig("http://127.0.0.1:9", token_file=tmp_path / "influx-write.token")
    writer = EventWriter(config)
    assert not writer.enabled
    (message,) = [r.getMessage() for r in caplog.records]
    assert "influx-write.token does not exist yet" in message


def test_events_config_from_settings(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.env"
    settings_file.write_text(
        "INFLUX_URL=http://localhost:8086\nINFLUX_ORG=o\nINFLUX_PIPELINE_BUCKET=p\n"
        "INFLUX_WRITE_TOKEN_FILE=.secrets/w.token\n"
    )
    config = EventsConfig.from_settings(Settings.load(settings_file, environ={}))
    assert config == EventsConfig("http://localhost:8086", "o", "p", tmp_path / ".secrets/w.token")
    assert EventsConfig.from_settings(Settings({})) == EventsConfig()
