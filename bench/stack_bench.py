"""bench/run.sh stack: the compose stack's figures, from the host as a user sees them.

Brings the default (full) stack up with ./build_setup.sh (images built first if needed)
and measures, on the `sensors` dataset (synthetic, so any rate can be asked):
- up_to_first_point_s: from build_setup.sh's "starting the ... stack" to the first point
  of the default dataset returned by a Flux query, and its critical path (startup_path):
  when each service started and became healthy, the provisioner finished, and the Spark
  job reached each of its steps (`--startup` measures only this and the next line's
  figure, then tears down);
- with `--startup`, first_point_after_spark_job_sigkill_s and its path, as above;
- latency_p50_s / latency_p95_s: send to queryable (Flux, polled every 0.25 s) at 1000
  rows/s;
- steps: for each asked rate, 60 s each, the rows/s the streamer got acknowledged by
  Kafka (produced) and how the sinks query's lag moved (least-squares slope of the lag
  sampled every 5 s, rows/s); max_sustained_rows_per_s is the highest produced rate of a
  step whose lag did not grow (slope under LAG_TOLERANCE of the produced rate);
- peak_memory_mib: the project's containers summed (docker stats every 5 s, whole run);
- submit_to_running_s: from `./submit.sh` (a small streaming job, tests/e2e/jobs/forever.py)
  to its YARN application RUNNING, SUBMIT_RUNS times (stopped with --kill in between), right
  after the bring-up.
The last line printed is one JSON object. The stack is torn down at the end (clean.sh).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT / "bench"))

from queryable import QueryableClock, percentile  # noqa: E402
from stack import Stack  # noqa: E402
from startup_path import ContainerEvents, breakdown, job_milestones  # noqa: E402

from metrics.sources.kafka import KafkaSource  # noqa: E402
from streamlab.kafka_admin import query_group  # noqa: E402
from streamlab.specs import load_specs  # noqa: E402

DATASET = "sensors"
STEPS = (1000, 2000, 5000, 10000, 20000)
STEP_S = 60.0
SAMPLE_S = 5.0
LAG_TOLERANCE = 0.02
LATENCY_RATE = 1000.0
LATENCY_SECONDS = 30.0
POLL_S = 0.25
MIB = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0}
SUBMIT_JOB = ROOT / "tests" / "e2e" / "jobs" / "forever.py"
SUBMIT_RUNS = 2
SUBMIT_TIMEOUT_S = 600.0
RESTART_GUARD_S = 900.0


def log(message: str) -> None:
    print(f"[bench stack] {message}", file=sys.stderr, flush=True)


class MemorySampler(threading.Thread):
    """The project's containers' memory summed, every SAMPLE_S; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mib = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_S):
            self.peak_mib = max(self.peak_mib, self.sample())

    @staticmethod
    def sample() -> float:
        out = subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}"],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        total = 0.0
        for line in out.splitlines():
            name, usage = line.split(" ", 1)
            if name.startswith("streamlab-"):
                amount = usage.split("/")[0].strip()
                unit = amount.lstrip("0123456789.")
                total += float(amount[: len(amount) - len(unit)]) * MIB.get(unit, 1.0)
        return total


def first_point_epoch(dataset: str, timeout: float = 1800) -> float | None:
    """The time the first point of `dataset` is returned by Flux, polled once a second."""
    deadline = time.monotonic() + timeout
    stack: Stack | None = None
    while time.monotonic() < deadline:
        try:
            stack = stack or Stack.current()
            if stack.influx_count(dataset) > 0:
                return time.time()
        except Exception:  # the stack is still coming up
            stack = None
        time.sleep(1)
    return None


def bring_up() -> tuple[float, list[dict[str, object]]]:
    """./build_setup.sh; returns seconds from its "starting the stack" to the first point,
    and the steps between (startup_path.breakdown)."""
    result: dict[str, float | None] = {}
    poller = threading.Thread(
        target=lambda: result.update(first=first_point_epoch("temps")), daemon=True
    )
    events = ContainerEvents(since=time.time())
    events.start()
    poller.start()
    started: float | None = None
    with subprocess.Popen(
        [str(ROOT / "build_setup.sh")], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as setup:
        for line in setup.stdout:
            print(line, end="", file=sys.stderr)
            if started is None and "starting the" in line:
                started = time.time()
    if setup.returncode != 0:
        raise SystemExit("bench stack: build_setup.sh failed (see above)")
    poller.join()
    events.stop()
    first = result.get("first")
    if started is None or first is None:
        raise SystemExit("bench stack: no first point seen")
    job = Stack.current().compose("ps", "-aq", "spark-job").strip()
    steps = breakdown(started, events.events, job_milestones(job, started), first)
    _log_path(steps)
    return first - started, steps


def restart_after_sigkill(stack: Stack) -> tuple[float, list[dict[str, object]]]:
    """SIGKILLs the Spark job's container; returns seconds to the first point of a row
    sent after the kill, and the steps between (startup_path.breakdown)."""
    job = stack.compose("ps", "-aq", "spark-job").strip()
    pid = int(subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Pid}}", job],
        capture_output=True, text=True, check=True,
    ).stdout)  # fmt: skip
    killed_at = time.time()
    events = ContainerEvents(since=killed_at)
    events.start()
    # The main process, as a crash would: `docker kill` counts as a stop and the restart
    # policy would leave the container down.
    os.kill(pid, signal.SIGKILL)
    killed_ns, deadline = int(killed_at * 1e9), time.monotonic() + RESTART_GUARD_S
    while stack.latest_point_ns("temps") <= killed_ns:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench stack: no point {RESTART_GUARD_S:.0f} s after the kill")
        time.sleep(1)
    first = time.time()
    events.stop()
    steps = breakdown(killed_at, events.events, job_milestones(job, killed_at), first)
    _log_path(steps)
    return first - killed_at, steps


def _log_path(steps: list[dict[str, object]]) -> None:
    for row in steps:
        log(f"  {row['at_s']:7.1f} s  {row['step']}")


def submit_to_running(stack: Stack, name: str) -> float:
    """Seconds from ./submit.sh to the job's YARN application RUNNING (polled every
    POLL_S); the job is stopped with ./submit.sh --kill after."""
    apps_url = f"{stack.url('YARN_RESOURCEMANAGER_HTTP_PORT')}/ws/v1/cluster/apps"
    query = {"applicationTags": f"streamlab-job-{name}", "states": "RUNNING"}
    with tempfile.TemporaryFile("w+") as output:
        started = time.monotonic()
        job = subprocess.Popen(
            [str(ROOT / "submit.sh"), "--name", name, str(SUBMIT_JOB), DATASET],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        running: float | None = None
        while time.monotonic() - started < SUBMIT_TIMEOUT_S and job.poll() is None:
            apps = requests.get(apps_url, params=query, timeout=10).json().get("apps") or {}
            if apps.get("app"):
                running = time.monotonic() - started
                break
            time.sleep(POLL_S)
        subprocess.run([str(ROOT / "submit.sh"), "--kill", name], cwd=ROOT,
                       capture_output=True, check=False)  # fmt: skip
        job.wait(120)
        if running is None:
            output.seek(0)
            raise SystemExit(f"bench stack: {name} never ran:\n{output.read()[-3000:]}")
    return running


def sinks_lag(source: KafkaSource) -> int:
    group = query_group(f"{DATASET}.sinks")
    for point in source.poll().points:
        if point.measurement == "kafka_lag" and point.tags["group"] == group:
            return int(point.fields["lag"])
    return 0  # no commit yet: the job has not finished a batch of this topic


def slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, value)."""
    mean_t = statistics.fmean(t for t, _ in samples)
    mean_v = statistics.fmean(v for _, v in samples)
    den = sum((t - mean_t) ** 2 for t, _ in samples)
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / den if den else 0.0


def step(stack: Stack, source: KafkaSource, asked: int) -> dict[str, Any]:
    stack.post_stream(DATASET, "rate", {"rows_per_second": asked})
    first = stack.stream(DATASET)["rows_acked"]
    started = time.monotonic()
    lags: list[tuple[float, float]] = []
    while (now := time.monotonic()) - started < STEP_S:
        lags.append((now - started, float(sinks_lag(source))))
        time.sleep(SAMPLE_S)
    produced = (stack.stream(DATASET)["rows_acked"] - first) / (time.monotonic() - started)
    growth = slope(lags)
    result = {
        "asked": asked,
        "produced": round(produced, 1),
        "lag_growth_per_s": round(growth, 1),
        "lag_first": int(lags[0][1]),
        "lag_last": int(lags[-1][1]),
        "holds": growth <= LAG_TOLERANCE * produced,
    }
    log(f"step {result}")
    return result


def latency(stack: Stack) -> list[float]:
    stack.post_stream(DATASET, "rate", {"rows_per_second": LATENCY_RATE})
    stack.post_stream(DATASET, "resume")
    time.sleep(15)  # the stream and the job at their steady state
    bucket = stack.settings.str("INFLUX_BUCKET")
    clock = QueryableClock(
        lambda flux: stack.flux_reply(flux).text, bucket, DATASET, "temperature", "sensor",
        since_ns=time.time_ns(),
    )  # fmt: skip
    clock.poll_for(LATENCY_SECONDS, POLL_S)
    return clock.latencies_s()


def main() -> int:
    memory = MemorySampler()
    memory.start()
    up_s, path = bring_up()
    log(f"up to the first point: {up_s:.1f} s")
    if sys.argv[1:] == ["--startup"]:
        restart_s, restart_path = restart_after_sigkill(Stack.current())
        log(f"first point after the Spark job's SIGKILL: {restart_s:.1f} s")
        memory.stop.set()
        print(json.dumps({
            "up_to_first_point_s": round(up_s, 1), "critical_path": path,
            "first_point_after_spark_job_sigkill_s": round(restart_s, 1),
            "restart_path": restart_path, "peak_memory_mib": round(memory.peak_mib),
        }))  # fmt: skip
        return 0
    stack = Stack.current()
    submits = [submit_to_running(stack, f"bench-submit-{n}") for n in range(1, SUBMIT_RUNS + 1)]
    log(f"./submit.sh to RUNNING: {', '.join(f'{s:.1f}' for s in submits)} s")
    specs = load_specs(ROOT / "datasets", stack.settings.values)
    source = KafkaSource(stack.kafka_bootstrap, {DATASET: specs[DATASET]}, timeout_s=5)
    latencies = latency(stack)
    log(f"latency at {LATENCY_RATE:.0f} rows/s: {len(latencies)} points")
    steps = [step(stack, source, asked) for asked in STEPS]
    stack.post_stream(DATASET, "pause")
    memory.stop.set()
    source.close()
    holding = [s["produced"] for s in steps if s["holds"]]
    result = {
        "dataset": DATASET,
        "steps": steps,
        "max_sustained_rows_per_s": max(holding) if holding else 0.0,
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(percentile(latencies, 0.95), 3),
        "latency_points": len(latencies),
        "up_to_first_point_s": round(up_s, 1),
        "critical_path": path,
        "peak_memory_mib": round(memory.peak_mib),
        "submit_to_running_s": [round(s, 1) for s in submits],
        "step_seconds": STEP_S,
        "lag_tolerance": f"lag slope under {LAG_TOLERANCE:.0%} of the produced rate",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
