"""The streamer when Kafka is down at start, and when the broker goes away mid-stream."""

from __future__ import annotations

import time

import pytest

from harness.streamer import (
    StreamerServer,
    create_topics,
    csv_spec,
    read_topic,
    streamer_config,
    values,
)

pytestmark = pytest.mark.integration


def _rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "date": f"2010-02-{1 + i // 48 % 28:02d} {i // 2 % 24:02d}:00",
            "station": ("seattle", "san_francisco")[i % 2],
            "temp_f": str(30 + i % 50),
        }
        for i in range(count)
    ]


def _assert_every_row_once(records: list, count: int) -> None:
    seqs = sorted(m["seq"] for m in values(records))
    assert seqs == list(range(count)), "rows are missing or duplicated"


def test_kafka_down_at_start_then_up(private_kafka, tmp_path) -> None:
    broker = private_kafka()
    spec = csv_spec(tmp_path, _rows(200), rate=400)
    create_topics(broker, spec)
    broker.stop()
    with StreamerServer(streamer_config(broker.bootstrap), {spec.name: spec}) as server:
        waiting = server.wait_for(spec.name, lambda s: s["state"] == "waiting_for_kafka")
        assert broker.bootstrap in waiting["error"] and waiting["rows_sent"] == 0
        time.sleep(1.5)
        assert server.status(spec.name)["state"] == "waiting_for_kafka"
        broker.start()
        done = server.wait_for(
            spec.name, lambda s: s["state"] == "finished" and s["rows_acked"] == 200, timeout=60
        )
        assert done["error"] is None
    _assert_every_row_once(read_topic(broker.bootstrap, spec.raw_topic, expected=200), 200)


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_broker_restart_mid_stream_loses_nothing(private_kafka, tmp_path, how) -> None:
    broker = private_kafka()
    count = 3000
    spec = csv_spec(tmp_path, _rows(count), rate=500)
    create_topics(broker, spec)
    with StreamerServer(streamer_config(broker.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, lambda s: s["rows_acked"] >= 500)
        getattr(broker, how)()
        down = server.wait_for(spec.name, lambda s: s["state"] == "waiting_for_kafka", timeout=20)
        assert "Kafka" in down["error"]
        time.sleep(2)
        broker.start()
        done = server.wait_for(
            spec.name, lambda s: s["state"] == "finished" and s["rows_acked"] == count, timeout=90
        )
        assert done["rows_sent"] == count
    _assert_every_row_once(read_topic(broker.bootstrap, spec.raw_topic, expected=count), count)
