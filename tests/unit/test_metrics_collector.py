"""The collector's cycle with stand-in sources and writer: status per source, deadlines,
logging once per change of state, InfluxDB failures dropped, the heartbeat."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from influxdb_client import Point as InfluxPoint

from metrics.collector import Collector
from metrics.points import Point, Poll, SourceError

TIMEOUT_S = 0.3


class FakeSource:
    def __init__(self, name: str, behave: Callable[[], Poll]) -> None:
        self.name, self.where, self.behave = name, f"http://{name}", behave
        self.polls = 0

    def poll(self) -> Poll:
        self.polls += 1
        return self.behave()

    def close(self) -> None:
        pass


class FakeWriter:
    def __init__(self) -> None:
        self.batches: list[list[InfluxPoint]] = []
        self.fail: Exception | None = None

    def write(self, points: list[InfluxPoint]) -> None:
        if self.fail is not None:
            raise self.fail
        self.batches.append(points)

    def close(self) -> None:
        pass


def _up() -> Poll:
    return Poll([Point("yarn_cluster", {}, {"nodes_active": 1})], 12.0)


def _down() -> Poll:
    raise SourceError("GET http://down failed: cannot connect")


def _collector(*sources: FakeSource, writer: FakeWriter | None = None, **kw) -> Collector:
    return Collector(
        sources,
        writer or FakeWriter(),
        interval_s=1.0,
        timeout_s=TIMEOUT_S,
        clock_ns=lambda: 7,
        **kw,
    )


def _status(points: list[Point]) -> dict[str, dict]:
    return {p.tags["source"]: dict(p.fields) for p in points if p.measurement == "source_status"}


def test_every_source_gets_a_status_and_down_ones_do_not_stop_the_others() -> None:
    writer = FakeWriter()
    collector = _collector(FakeSource("yarn", _up), FakeSource("hdfs", _down), writer=writer)
    points = collector.cycle()
    assert writer.batches == [points]
    # influxdb-client sorts fields by key and writes the float 12.0 as 12 (12i is an integer).
    assert sorted(p.to_line_protocol() for p in points) == sorted([
        "yarn_cluster nodes_active=1i 7",
        "source_status,source=yarn response_ms=12,up=1i 7",
        'source_status,source=hdfs error="GET http://down failed: cannot connect",up=0i 7',
    ])  # fmt: skip


def test_a_bug_in_a_source_is_a_down_source() -> None:
    def broken() -> Poll:
        raise ZeroDivisionError("division by zero")

    status = _status(_collector(FakeSource("streamer", broken)).poll_all())
    assert status["streamer"] == {
        "up": 0, "response_ms": None, "error": "ZeroDivisionError: division by zero",
    }  # fmt: skip


def test_a_hung_source_is_down_at_the_deadline_and_never_polled_twice_at_once() -> None:
    release = threading.Event()

    def hang() -> Poll:
        release.wait(10)
        return _up()

    source = FakeSource("kafka", hang)
    collector = _collector(source, FakeSource("yarn", _up))
    started = time.monotonic()
    first = _status(collector.poll_all())
    assert time.monotonic() - started < TIMEOUT_S + 0.5
    assert first["kafka"]["error"] == "http://kafka: no answer within METRICS_TIMEOUT_S=0.3 s"
    assert first["yarn"]["up"] == 1
    second = _status(collector.poll_all())
    assert "no answer yet to a poll started" in second["kafka"]["error"]
    assert source.polls == 1
    release.set()
    time.sleep(0.1)
    assert _status(collector.poll_all())["kafka"]["up"] == 1
    assert source.polls == 2


def test_state_changes_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([_down, _down, _up, _up, _down])
    collector = _collector(FakeSource("hdfs", lambda: next(answers)()))
    with caplog.at_level(logging.INFO, logger="metrics.collector"):
        for _ in range(5):
            collector.cycle()
    hdfs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("hdfs")]
    assert hdfs == [
        "hdfs is down: GET http://down failed: cannot connect",
        "hdfs is up again",
        "hdfs is down: GET http://down failed: cannot connect",
    ]


def test_influxdb_down_drops_the_batch_and_the_next_cycle_writes_only_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = FakeWriter()
    collector = _collector(FakeSource("yarn", _up), writer=writer)
    writer.fail = ConnectionRefusedError("InfluxDB refused")
    with caplog.at_level(logging.INFO, logger="metrics.collector"):
        collector.cycle()
        collector.cycle()
        writer.fail = None
        points = collector.cycle()
    assert writer.batches == [points] and len(points) == 2
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("influxdb")]
    assert messages == [
        "influxdb is down: ConnectionRefusedError: InfluxDB refused "
        "(2 points dropped, retrying next cycle)",
        "influxdb is up again",
    ]


def test_the_loop_touches_the_heartbeat_and_stops_when_told(tmp_path: Path) -> None:
    heartbeat = tmp_path / "heartbeat"
    writer = FakeWriter()
    collector = _collector(FakeSource("yarn", _up), writer=writer, heartbeat_file=str(heartbeat))
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 5
    while not heartbeat.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert heartbeat.exists() and not thread.is_alive() and writer.batches
