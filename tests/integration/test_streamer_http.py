"""The http dataset end to end through the streamer: a local GBFS feed polled into Kafka."""

from __future__ import annotations

import dataclasses

import pytest

from harness.gbfs import GbfsFeed, station_status
from harness.streamer import (
    StreamerServer,
    create_topics,
    read_topic,
    streamer_config,
    unique_spec,
    values,
)

pytestmark = pytest.mark.integration


def _station(sid: str, reported: int, bikes: int) -> dict:
    return {
        "station_id": sid,
        "num_bikes_available": bikes,
        "num_docks_available": 20 - bikes,
        "is_installed": 1,
        "is_renting": 1,
        "last_reported": reported,
    }


def test_gbfs_feed_to_kafka(kafka) -> None:
    stations = [_station(f"st{i}", 1_700_000_000 + i, i) for i in range(5)]
    broken = {
        "station_id": "bad",
        "num_bikes_available": "many",
        "num_docks_available": 1,
        "is_installed": 1,
        "is_renting": 1,
        "last_reported": 1_700_000_000,
    }
    with GbfsFeed(station_status([*stations, broken], 1_700_000_000)) as feed:
        spec = unique_spec("bikes", env={"BIKES_FEED_URL": feed.url})
        spec = dataclasses.replace(
            spec, source=dataclasses.replace(spec.source, poll_interval_s=0.5)
        )
        create_topics(kafka, spec)
        config = streamer_config(kafka.bootstrap, autostart=spec.name)
        with StreamerServer(config, {spec.name: spec}) as server:
            server.wait_for(spec.name, lambda s: s["rows_acked"] == 5)
            feed.document = station_status([_station("st0", 1_700_000_100, 9), *stations[1:]], 1)
            done = server.wait_for(spec.name, lambda s: s["rows_acked"] == 6)
            assert done["rows_deadlettered"] == 1 and done["state"] == "running"
            feed.status = 500
            failing = server.wait_for(spec.name, lambda s: s["state"] == "source_error", timeout=10)
            assert "500" in failing["error"]
    sent = values(read_topic(kafka.bootstrap, spec.raw_topic, expected=6))
    assert sorted((m["station_id"], m["num_bikes_available"]) for m in sent) == sorted(
        [(f"st{i}", i) for i in range(5)] + [("st0", 9)]
    )
    assert all(m["ts"] == m["original_ts"] for m in sent)
    dead = values(read_topic(kafka.bootstrap, spec.deadletter_topic, expected=1))
    assert dead[0]["record"]["station_id"] == "bad" and "num_bikes_available" in dead[0]["reason"]
