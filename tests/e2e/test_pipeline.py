"""Issue 5 on the running stack: the pipeline bucket gets a measurement from every source
(how long after bring-up is recorded as a figure; the wait is only a failure guard), and the
streamer's control page renders in a real browser."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from stack import ARTIFACTS, ROOT, Stack, log, record_figure, wait_for

from streamlab.pipeline_schema import MEASUREMENTS
from streamlab.settings import Settings

GUARD_S = 600.0  # a failure guard; the times are figures
# The sources the collector polls in each profile (their URLs are set in compose/profiles).
PROFILE_SOURCES = {
    "full": ("streamer", "kafka", "yarn", "hdfs"),
    "lite": ("streamer", "kafka", "spark_master"),
}


def _profile() -> str:
    return Settings.load(ROOT / "settings.env").str("STREAMLAB_PROFILE")


def _deadline() -> float:
    """GUARD_S after build_setup.sh returned (tests/e2e/run.sh exports when)."""
    up = float(os.environ.get("E2E_STACK_UP_EPOCH") or time.time())
    return max(up + GUARD_S - time.time(), 1.0)


def _sources_up(stack: Stack) -> set[str]:
    points = stack.pipeline_points("source_status")
    return {p["tags"]["source"] for p in points if p["fields"].get("up") in (1, True)}


@pytest.mark.parametrize("source", PROFILE_SOURCES[_profile()])
def test_every_source_reaches_the_pipeline_bucket(stack: Stack, source: str) -> None:
    expected = [m for m in MEASUREMENTS.values() if m.source == source]
    up = float(os.environ.get("E2E_STACK_UP_EPOCH") or time.time())

    def present() -> dict[str, int] | None:
        if source not in _sources_up(stack):
            return None
        # streamer_event comes only with a rate change; every other measurement each cycle.
        wanted = [m.name for m in expected if m.name != "streamer_event"]
        first = {name: _first_ns(stack.pipeline_points(name)) for name in wanted}
        return first if all(first.values()) else None

    first = wait_for(f"pipeline measurements of {source}", present, _deadline(), every=1.0)
    for name, time_ns in sorted(first.items()):
        record_figure("pipeline_first_stored_after_up_s", time_ns / 1e9 - up, measurement=name)


def _first_ns(points: list[dict]) -> int:
    """The earliest point's time (0: no point)."""
    return min((p["time_ns"] for p in points), default=0)


def test_the_spark_job_reports_progress_to_the_pipeline_bucket(stack: Stack) -> None:
    points = wait_for(
        "spark_query progress points", lambda: stack.pipeline_points("spark_query") or None,
        _deadline(), every=1.0,
    )  # fmt: skip
    queries = sorted({p["tags"]["query"] for p in points})
    log(f"spark_query: {len(points)} progress points from {queries}")


def test_a_rate_change_is_an_event_in_the_pipeline_bucket(
    stack: Stack, default_dataset: str
) -> None:
    before = len(stack.pipeline_points("streamer_event"))
    rate = stack.stream(default_dataset)["rate"]
    stack.post_stream(default_dataset, "rate", {"rows_per_second": 7})
    try:
        events = wait_for(
            "the rate-change event",
            lambda: stack.pipeline_points("streamer_event")[before:] or None,
            GUARD_S,
        )
    finally:
        stack.post_stream(default_dataset, "rate", {rate["mode"]: rate["value"]})
    event = next(e for e in events if e["tags"]["stream"] == default_dataset)
    assert event["tags"]["event"] == "rate_change"
    log(f"event: {event['fields']['title']}")


def test_the_control_page_renders_in_chromium(stack: Stack, default_dataset: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"control-page-{_profile()}.png"
    command = [sys.executable, str(ROOT / "tests" / "browser" / "screenshot.py"),
               stack.url("STREAMER_PORT") + "/", str(shot)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert shot.stat().st_size > 10_000
    log(f"control page screenshot: {shot} ({shot.stat().st_size} bytes)")
