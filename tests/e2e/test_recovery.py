"""A stack that heals itself: each service a row passes through is killed (SIGKILL) mid-stream
at 2000 rows/s and nothing is done by hand. Each comes back healthy by its restart policy
(within a generous failure guard; the times are recorded as figures, with the first point
the Spark job writes after its kill), and once the stream is paused and drained, Kafka,
the Parquet raw layer and InfluxDB hold the same rows, none twice.

The SIGKILL goes to the container's main process from the host, as the kernel's OOM killer
or a crash ends it. `docker kill --signal KILL` would not do: Docker takes it as the user
stopping the container and suspends the restart policy, as it should (measured on Docker
20.10: RestartCount stays 0 and the container stays exited).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import pytest
from stack import Stack, log, record_figure, wait_for

from harness.streamer import read_topic, values
from streamlab.specs import load_specs

RATE = 2000.0
RECOVERY_GUARD_S = 900  # a failure guard; the recovery times are figures
STREAM_BEFORE_KILL_S = 15
COUNTS_MATCH_GUARD_S = 900  # a failure guard
SERVICES = ("kafka", "spark-job", "streamer", "metrics")


@pytest.fixture(scope="module")
def spec(stack: Stack, default_dataset: str):
    return load_specs(stack.settings.path("DATASETS_DIR"), stack.settings.values)[default_dataset]


def test_killed_services_come_back_and_no_row_is_lost_or_repeated(
    stack: Stack, default_dataset: str, spec
) -> None:
    original = stack.stream(default_dataset)["rate"]
    stack.post_stream(default_dataset, "resume")
    stack.post_stream(default_dataset, "rate", {"rows_per_second": RATE})
    recoveries = {}
    try:
        for service in SERVICES:
            time.sleep(STREAM_BEFORE_KILL_S)
            killed = _kill(stack, service)
            if service == "spark-job":
                _first_point_after(stack, default_dataset, killed[0])
            recoveries[service] = _wait_healthy(stack, service, killed)
            if service == "streamer":  # a new process starts at the spec's rate
                stack.post_stream(default_dataset, "rate", {"rows_per_second": RATE})
        time.sleep(STREAM_BEFORE_KILL_S)
        stack.post_stream(default_dataset, "pause")
        wait_for("the streamer to flush", lambda: _flushed(stack, default_dataset), 300, every=0.5)
        counts = wait_for(
            "Kafka, Parquet and InfluxDB to hold the same rows",
            lambda: _matching_counts(stack, spec),
            COUNTS_MATCH_GUARD_S,
            every=10,
        )
    finally:
        stack.post_stream(default_dataset, "rate", {original["mode"]: original["value"]})
        stack.post_stream(default_dataset, "resume")
    for service, seconds in recoveries.items():
        record_figure("healthy_after_sigkill_s", seconds, service=service)
    log(f"counts after the kills: {counts}")
    assert counts["kafka_distinct_seq"] == counts["kafka"], "a row is in Kafka twice"
    assert counts["parquet_distinct_seq"] == counts["parquet"], "a row is in Parquet twice"


# --- killing ------------------------------------------------------------------------------


def _container(stack: Stack, service: str) -> str:
    names = [c["Name"] for c in stack.containers() if c["Service"] == service]
    assert len(names) == 1, f"{service}: expected one container, found {names}"
    return names[0]


def _inspect(container: str) -> dict[str, Any]:
    out = subprocess.run(
        ["docker", "inspect", container], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)[0]


def _kill(stack: Stack, service: str) -> tuple[float, int]:
    """SIGKILL the healthy service's container: when (epoch seconds), and its restarts before."""
    container = _container(stack, service)
    before = _inspect(container)
    assert before["State"]["Health"]["Status"] == "healthy", f"{service} is not healthy"
    os.kill(before["State"]["Pid"], signal.SIGKILL)
    log(f"{service}: SIGKILL to {container}'s main process (restarts so far: "
        f"{before['RestartCount']})")  # fmt: skip
    return time.time(), before["RestartCount"]


def _wait_healthy(stack: Stack, service: str, killed: tuple[float, int]) -> float:
    """Seconds from the SIGKILL until the restarted container is healthy again."""
    container = _container(stack, service)
    killed_at, restarts = killed

    def healthy_again() -> bool:
        state = _inspect(container)
        restarted = state["RestartCount"] > restarts
        return restarted and state["State"].get("Health", {}).get("Status") == "healthy"

    wait_for(f"{service} to be healthy again", healthy_again, RECOVERY_GUARD_S, every=1.0)
    seconds = time.time() - killed_at
    log(f"{service}: healthy again after {seconds:.1f} s")
    return seconds


def _first_point_after(stack: Stack, dataset: str, killed_at: float) -> None:
    """Records the seconds from the job's SIGKILL to its first point of a row sent after it."""
    killed_ns = int(killed_at * 1e9)
    wait_for(
        "a point of a row sent after the Spark job's SIGKILL",
        lambda: stack.latest_point_ns(dataset) > killed_ns, RECOVERY_GUARD_S, every=1.0,
    )  # fmt: skip
    record_figure("first_point_after_spark_job_sigkill_s", time.time() - killed_at)


# --- counting -----------------------------------------------------------------------------


def _flushed(stack: Stack, dataset: str) -> bool:
    status = stack.stream(dataset)
    return status["state"] == "paused" and status["rows_unacked"] == 0


def _matching_counts(stack: Stack, spec) -> dict[str, int] | None:
    seqs = [
        m["seq"] for m in values(read_topic(stack.kafka_bootstrap, spec.raw_topic, timeout=300))
    ]
    table = stack.layer_table("raw", spec.name, columns=["seq"])
    parquet_seqs = table.column("seq").to_pylist() if table is not None else []
    counts = {
        "kafka": len(seqs),
        "kafka_distinct_seq": len(set(seqs)),
        "parquet": len(parquet_seqs),
        "parquet_distinct_seq": len(set(parquet_seqs)),
        "influxdb": stack.influx_count(spec.name),
    }
    log(f"counts: {counts}")
    return counts if counts["kafka"] == counts["parquet"] == counts["influxdb"] else None
