"""The four shipped examples on the running stack: the feeds service serves the HTTP ones
inside the stack's network, and each example's points reach InfluxDB."""

from __future__ import annotations

import pytest
from stack import Stack, log, wait_for

EXAMPLES = ("idfm_stops", "meteo_31", "users", "velib")
OFF_BY_DEFAULT = ("users", "velib")  # polled from the stack's feeds service
WITHIN_S = 180.0


@pytest.fixture(scope="module", autouse=True)
def started(stack: Stack) -> None:
    for name in OFF_BY_DEFAULT:
        stack.post_stream(name, "resume")


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_s_points_reach_influxdb(stack: Stack, name: str) -> None:
    count = wait_for(
        f"points of {name}", lambda: stack.influx_count(name) or None, WITHIN_S, every=3.0
    )
    status = stack.stream(name)
    log(f"{name}: {count} points; streamer sent {status['rows_sent']}, "
        f"filtered {status['rows_filtered']}, dead-lettered {status['rows_deadlettered']}")  # fmt: skip
    assert status["state"] in ("running", "finished"), status
    if name == "velib":
        assert status["rows_filtered"] > 0  # every station but 16107 and 32017
