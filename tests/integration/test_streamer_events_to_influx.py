"""The streamer records its control events in the pipeline bucket of a real InfluxDB, and a
down InfluxDB never slows or fails a control request."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.influx import ORG, PIPELINE_BUCKET, InfluxLab
from harness.streamer import StreamerServer, create_topics, streamer_config, unique_spec
from streamer.config import EventsConfig
from streamlab.specs import RateSpec
from streamlab.waiting import TimedOut, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def server(kafka, influx: InfluxLab, tmp_path: Path) -> Iterator[tuple[StreamerServer, str]]:
    token_file = tmp_path / "influx-write.token"
    token_file.write_text(influx.write_token + "\n")
    events = EventsConfig(influx.url, ORG, PIPELINE_BUCKET, token_file)
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", 10))
    create_topics(kafka, spec)
    config = streamer_config(kafka.bootstrap, autostart=spec.name, events=events)
    with StreamerServer(config, {spec.name: spec}) as running:
        yield running, spec.name


def _events(influx: InfluxLab, count: int, timeout: float = 10) -> list[dict]:
    """The streamer_event points, once there are `count` (or all there are after timeout)."""
    points: list[dict] = []

    def enough() -> bool:
        points[:] = influx.points("streamer_event", PIPELINE_BUCKET)
        return len(points) >= count

    with contextlib.suppress(TimedOut):
        wait_for(enough, f"{count} streamer events", timeout, interval_s=0.05)
    return points


def test_a_rate_change_writes_one_event(server, influx: InfluxLab) -> None:
    streamer, name = server
    before = time.time_ns()
    assert streamer.post(f"/streams/{name}/rate", {"rows_per_second": 200}).status_code == 200
    (point,) = _events(influx, 1)
    time.sleep(0.5)  # and no second one
    assert len(influx.points("streamer_event", PIPELINE_BUCKET)) == 1
    assert point["tags"] == {"stream": name, "event": "rate_change"}
    assert point["fields"] == {
        "asked_rows_per_s": 200.0,
        "text": f"The rate of stream {name} was changed from 10 rows/s to 200 rows/s "
        f"(POST /streams/{name}/rate).",
        "title": f"{name}: 10 → 200 rows/s",
    }
    assert point["field_types"]["asked_rows_per_s"] == "float"
    assert before <= point["time_ns"] <= time.time_ns()


def test_pause_resume_restart_write_events(server, influx: InfluxLab) -> None:
    streamer, name = server
    for action in ("pause", "resume", "restart"):
        assert streamer.post(f"/streams/{name}/{action}").status_code == 200
    points = _events(influx, 3)
    assert sorted(p["tags"]["event"] for p in points) == ["pause", "restart", "resume"]
    assert all(set(p["fields"]) == {"title", "text"} for p in points)
    bad = streamer.post(f"/streams/{name}/rate", {"rows_per_second": -1})
    assert bad.status_code == 400
    time.sleep(0.3)
    assert len(influx.points("streamer_event", PIPELINE_BUCKET)) == 3  # a refused POST: none


def test_influxdb_down_never_delays_a_post(
    server, influx: InfluxLab, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "streamer.event_writer")
    streamer, name = server
    influx.server.stop()
    for rate in (20, 30, 40):
        started = time.monotonic()
        response = streamer.post(f"/streams/{name}/rate", {"rows_per_second": rate})
        assert response.status_code == 200 and response.json()["rate"]["value"] == rate
        assert time.monotonic() - started < 0.5
    wait_for(lambda: caplog.records, "a log record", 10, interval_s=0.05)
    assert "not written to InfluxDB" in caplog.records[0].getMessage()
    status = streamer.wait_for(name, lambda s: s["achieved_rows_per_second"] > 30)
    assert status["state"] == "running"
