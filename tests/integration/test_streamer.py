"""The streamer against a real Kafka broker: counts, order, dead letters and live control."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from harness.streamer import (
    StreamerServer,
    create_topics,
    csv_spec,
    read_topic,
    streamer_config,
    unique_spec,
    values,
)
from streamlab.specs import RateSpec

pytestmark = pytest.mark.integration

STATIONS = ("seattle", "san_francisco", "portland")


def _rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "date": f"2010-01-{1 + i // 72:02d} {i // 3 % 24:02d}:00",
            "station": STATIONS[i % 3],
            "temp_f": f"{40 + i % 17}.{i % 10}",
        }
        for i in range(count)
    ]


def test_rows_arrive_in_order_per_key_and_bad_rows_are_deadlettered(kafka, tmp_path) -> None:
    rows = _rows(600)
    bad = [
        {"date": "2010-01-05 00:00", "station": "seattle", "temp_f": "warm"},
        {"date": "not a date", "station": "seattle", "temp_f": "41"},
        {"date": "2010-01-05 01:00", "station": "", "temp_f": "41"},
    ]
    mixed = rows[:100] + bad[:1] + rows[100:300] + bad[1:] + rows[300:]
    spec = csv_spec(tmp_path, mixed, rate=3000)
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        status = server.wait_for(
            spec.name, lambda s: s["state"] == "finished" and s["rows_unacked"] == 0
        )
    assert status["rows_sent"] == status["rows_acked"] == len(rows)
    assert status["rows_deadlettered"] == len(bad)

    sent = values(read_topic(kafka.bootstrap, spec.raw_topic, expected=len(rows)))
    assert len(sent) == len(rows)
    by_station: dict[str, list[dict]] = defaultdict(list)
    for message in sent:
        by_station[message["station"]].append(message)
    for station in STATIONS:
        expected = [float(r["temp_f"]) for r in rows if r["station"] == station]
        got = by_station[station]
        assert [m["temp_f"] for m in got] == expected, f"order of {station} rows changed"
        assert [m["seq"] for m in got] == sorted(m["seq"] for m in got)
    assert sorted(m["seq"] for m in sent) == list(range(len(rows)))
    assert all(m["original_ts"].startswith("2010-01-") for m in sent)

    # The dead-letter topic has several partitions and unkeyed records: no order across them.
    dead = values(read_topic(kafka.bootstrap, spec.deadletter_topic, expected=len(bad)))
    reason_of = {json.dumps(d["record"], sort_keys=True): d["reason"] for d in dead}
    assert len(dead) == len(bad)
    assert sorted(reason_of) == sorted(json.dumps(b, sort_keys=True) for b in bad)
    reasons = [reason_of[json.dumps(b, sort_keys=True)] for b in bad]
    assert "field 'temp_f'='warm'" in reasons[0]
    assert "does not match format" in reasons[1]
    assert "tag 'station' is missing" in reasons[2]


def _sent_over(server: StreamerServer, name: str, seconds: float) -> float:
    before = server.status(name)["rows_sent"]
    time.sleep(seconds)
    return (server.status(name)["rows_sent"] - before) / seconds


def test_rate_change_applies_live(kafka) -> None:
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", 40))
    create_topics(kafka, spec)
    config = streamer_config(kafka.bootstrap, autostart="all")
    with StreamerServer(config, {spec.name: spec}) as server:
        server.manager.get(spec.name).resume()
        server.wait_for(spec.name, lambda s: s["rows_sent"] > 20)
        slow = _sent_over(server, spec.name, 2.0)
        response = server.post(f"/streams/{spec.name}/rate", {"rows_per_second": 400})
        assert response.status_code == 200
        assert response.json()["rate"] == {
            "mode": "rows_per_second",
            "value": 400.0,
            "rows_per_second": 400.0,
        }
        time.sleep(0.3)
        fast = _sent_over(server, spec.name, 2.0)
        server.post(f"/streams/{spec.name}/rate", {"interval_s": 0.5})
        time.sleep(0.3)
        interval = _sent_over(server, spec.name, 4.0)
    assert 30 <= slow <= 50
    assert 360 <= fast <= 440
    assert 1 <= interval <= 3


def test_pause_resume_restart(kafka, tmp_path) -> None:
    rows = _rows(60)
    spec = csv_spec(tmp_path, rows, rate=100)
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, lambda s: s["rows_sent"] >= 10)
        paused = server.post(f"/streams/{spec.name}/pause").json()
        assert paused["name"] == spec.name
        held = server.wait_for(spec.name, lambda s: s["state"] == "paused")["rows_sent"]
        time.sleep(1.0)
        assert server.status(spec.name)["rows_sent"] == held
        assert server.post(f"/streams/{spec.name}/resume").status_code == 200
        server.wait_for(spec.name, lambda s: s["state"] == "finished")
        assert server.status(spec.name)["rows_sent"] == len(rows)
        assert server.post(f"/streams/{spec.name}/restart").json()["restarts"] == 1
        final = server.wait_for(
            spec.name, lambda s: s["state"] == "finished" and s["rows_acked"] == 2 * len(rows)
        )
        assert final["rows_acked"] == 2 * len(rows)
    sent = values(read_topic(kafka.bootstrap, spec.raw_topic, expected=2 * len(rows)))
    temps = [m["temp_f"] for m in sorted(sent, key=lambda m: m["seq"])]
    assert temps[: len(rows)] == temps[len(rows) :] == [float(r["temp_f"]) for r in rows]


def test_send_time_original_and_scaled_timestamps(kafka, tmp_path) -> None:
    rows = _rows(9)
    spec = csv_spec(tmp_path, rows, rate=50)
    create_topics(kafka, spec)
    with StreamerServer(
        streamer_config(kafka.bootstrap, autostart="none"), {spec.name: spec}
    ) as server:
        assert server.post(
            f"/streams/{spec.name}/rate", {"rows_per_second": 50, "timestamps": "original"}
        ).ok
        server.post(f"/streams/{spec.name}/resume")
        server.wait_for(spec.name, lambda s: s["state"] == "finished")
        server.post(f"/streams/{spec.name}/rate", {"speedup": 36000, "timestamps": "scaled"})
        server.post(f"/streams/{spec.name}/restart")
        server.wait_for(spec.name, lambda s: s["state"] == "finished" and s["rows_sent"] == 18)
    sent = sorted(
        values(read_topic(kafka.bootstrap, spec.raw_topic, expected=18)), key=lambda m: m["seq"]
    )
    original, scaled = sent[:9], sent[9:]
    assert [m["ts"] for m in original] == [m["original_ts"] for m in original]
    # Rows one hour apart become 0.1 s apart at 36000x. Each ts is rounded to the
    # microsecond, so a gap between two of them may be off by one (0.099999 s seen).
    times = [datetime.fromisoformat(m["ts"]) for m in scaled]
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert gaps == pytest.approx([0.0, 0.0, 0.1, 0.0, 0.0, 0.1, 0.0, 0.0], abs=1.5e-6)
    assert times[0].year >= 2026


def test_set_rate_script(kafka) -> None:
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", 10))
    create_topics(kafka, spec)
    root = Path(__file__).resolve().parents[2]
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        env = {
            **os.environ,
            "STREAMER_HOST": "127.0.0.1",
            "STREAMER_PORT": server.url.rsplit(":", 1)[1],
        }

        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [str(root / "set_rate.sh"), *args], env=env, capture_output=True, text=True
            )

        ok = run(spec.name, "250")
        assert ok.returncode == 0, ok.stderr
        assert server.status(spec.name)["rate"]["rows_per_second"] == 250.0
        assert run(spec.name, "4", "--interval").returncode == 0
        assert server.status(spec.name)["rate"] == {
            "mode": "interval_s",
            "value": 4.0,
            "rows_per_second": 0.25,
        }
        refused = run(spec.name, "0")
        assert refused.returncode == 1 and "HTTP 400" in refused.stderr
        unknown = run("nope", "5")
        assert unknown.returncode == 1 and "unknown_stream" in unknown.stdout
        assert server.status(spec.name)["rate"]["mode"] == "interval_s"
