"""The streamer's control events: their points, and an event writer that stays off cleanly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from streamer.config import EventsConfig
from streamer.event_writer import EventWriter
from streamer.events import control, rate_change
from streamer.pacing import Rate
from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.settings import Settings, SettingsError

SCHEMA = MEASUREMENTS["streamer_event"]


def test_rate_change_point_has_the_schema_names() -> None:
    event = rate_change("weather", Rate("rows_per_second", 10), Rate("rows_per_second", 200))
    assert set(event.tags()) == SCHEMA.tags and set(event.fields()) == SCHEMA.fields
    # A float field without a fraction is written bare (200), an integer would be 200i.
    assert event.point().to_line_protocol() == (
        f"{SCHEMA.name},event=rate_change,stream=weather asked_rows_per_s=200,"
        'text="The rate of stream weather was changed from 10 rows/s to 200 rows/s '
        '(POST /streams/weather/rate).",title="weather: 10 → 200 rows/s" '
        f"{event.time_ns}"
    )


def test_interval_is_asked_in_rows_per_second_and_speedup_has_no_asked_rate() -> None:
    interval = rate_change("temps", Rate("rows_per_second", 5), Rate("interval_s", 2))
    assert interval.point().to_line_protocol() == (
        "streamer_event,event=rate_change,stream=temps asked_rows_per_s=0.5,"
        'text="The rate of stream temps was changed from 5 rows/s to 1 row every 2 s '
        '(POST /streams/temps/rate).",title="temps: 5 rows/s → 1 row every 2 s" '
        f"{interval.time_ns}"
    )
    speedup = rate_change("temps", Rate("interval_s", 2), Rate("speedup", 60))
    assert speedup.point().to_line_protocol() == (
        'streamer_event,event=rate_change,stream=temps text="The rate of stream temps was '
        "changed from 1 row every 2 s to original spacing, 60 times faster "
        '(POST /streams/temps/rate).",title="temps: 1 row every 2 s → original spacing, '
        f'60 times faster" {speedup.time_ns}'
    )


@pytest.mark.parametrize("action", ["pause", "resume", "restart"])
def test_control_events(action: str) -> None:
    event = control('my stream,1 "x"', action, Rate("rows_per_second", 50))
    assert event.tags() == {"stream": 'my stream,1 "x"', "event": action}
    assert event.title.startswith('my stream,1 "x": ')
    # Line protocol escapes the space and comma in a tag value, the quotes in a string field.
    title, text = (value.replace('"', '\\"') for value in (event.title, event.text))
    assert event.point().to_line_protocol() == (
        f'streamer_event,event={action},stream=my\\ stream\\,1\\ "x" '
        f'text="{text}",title="{title}" {event.time_ns}'
    )


def test_events_are_off_without_an_influx_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "streamer.event_writer")
    writer = EventWriter(EventsConfig("", "streamlab", "pipeline", token_file=None))
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
    config = EventsConfig("http://127.0.0.1:9", "o", "p", tmp_path / "influx-write.token")
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
    empty_url = Settings.load(
        settings_file, environ={"INFLUX_URL": "", "INFLUX_WRITE_TOKEN_FILE": ""}
    )
    assert EventsConfig.from_settings(empty_url).influx_url == ""
    assert EventsConfig.from_settings(empty_url).token_file is None


def test_events_config_has_no_defaults_of_its_own() -> None:
    with pytest.raises(SettingsError, match="setting INFLUX_WRITE_TOKEN_FILE is not set"):
        EventsConfig.from_settings(Settings({}))
