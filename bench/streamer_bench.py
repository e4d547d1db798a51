"""bench/run.sh streamer: the streamer's throughput and rate accuracy on a real broker.

Starts its own ZooKeeper and Kafka (the test harness, same jars as the image) and measures,
in one run, side by side:
- the streamer's sustained rows/s at its highest allowed rate;
- a naive replayer (send one row, wait for the ack, sleep the interval; interval 0);
- Kafka's own Java producer (org.apache.kafka.tools.ProducerPerformance), same record size;
- rate accuracy: rows per one-second window / asked rate, for 10, 1000 and 10000 rows/s;
- the time from a rate POST to the new rate holding.
Figures come from the broker's record timestamps, not from the streamer's own counters.
The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from kafka import KafkaProducer  # noqa: E402

from harness.jars import resolve_jars  # noqa: E402
from harness.kafka import KafkaBroker, ZooKeeperServer  # noqa: E402
from harness.streamer import (  # noqa: E402
    StreamerServer,
    create_topics,
    read_topic,
    streamer_config,
    unique_spec,
)
from streamlab.specs import RateSpec  # noqa: E402

MAX_SECONDS = 10.0
NAIVE_SECONDS = 8.0
ACCURACY_SECONDS = {"10": 12.0, "1000": 8.0, "10000": 8.0}


def log(message: str) -> None:
    print(f"[bench streamer] {message}", file=sys.stderr, flush=True)


def timestamps_ms(broker: KafkaBroker, topic: str, expected: int | None = None) -> list[int]:
    return sorted(r.timestamp for r in read_topic(broker.bootstrap, topic, expected, timeout=120))


def rate_between(stamps: list[int], start_ms: float, end_ms: float) -> float:
    count = sum(1 for t in stamps if start_ms <= t < end_ms)
    return count / ((end_ms - start_ms) / 1000)


def run_streamer(server: StreamerServer, name: str, rows_per_second: float, seconds: float):
    """Runs a stream at a rate for `seconds`, then pauses it; returns (start_ms, end_ms)."""
    server.post(f"/streams/{name}/rate", {"rows_per_second": rows_per_second}).raise_for_status()
    start = time.time() * 1000
    server.post(f"/streams/{name}/resume").raise_for_status()
    time.sleep(seconds)
    server.post(f"/streams/{name}/pause").raise_for_status()
    end = time.time() * 1000
    server.wait_for(name, lambda s: s["state"] == "paused" and s["rows_unacked"] == 0, 60)
    return start, end


def new_stream(broker: KafkaBroker) -> Any:
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", 10))
    create_topics(broker, spec)
    return spec


def measure_max(broker: KafkaBroker, server: StreamerServer, spec: Any, max_rate: float) -> float:
    start, end = run_streamer(server, spec.name, max_rate, MAX_SECONDS)
    stamps = timestamps_ms(broker, spec.raw_topic)
    # Leave out the first second (connection set-up, JIT of the broker) and the last.
    return rate_between(stamps, start + 1000, end - 1000)


def message_size(broker: KafkaBroker, topic: str) -> int:
    records = read_topic(broker.bootstrap, topic, expected=200, timeout=30)[:200]
    return round(statistics.mean(len(r.value) for r in records))


def measure_naive(broker: KafkaBroker, topic: str, size: int) -> float:
    """The per-row pattern of typical replayers: send, wait for the ack, sleep(interval=0)."""
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    payload = b"x" * size
    sent, start = 0, time.monotonic()
    while time.monotonic() - start < NAIVE_SECONDS:
        producer.send(topic, payload).get(timeout=30)
        time.sleep(0)
        sent += 1
    elapsed = time.monotonic() - start
    producer.close()
    return sent / elapsed


def measure_java(broker: KafkaBroker, topic: str, size: int) -> float:
    command = broker.tool_command(
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic", topic, "--num-records", "1500000", "--record-size", str(size),
        "--throughput", "-1", "--producer-props", f"bootstrap.servers={broker.bootstrap}",
        "acks=all", "linger.ms=5", "batch.size=131072", "compression.type=lz4",
    )  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    summary = [line for line in output.stdout.splitlines() if "records sent" in line][-1]
    return float(re.search(r"([\d.]+) records/sec", summary).group(1))


def per_second_ratios(
    stamps: list[int], start_ms: float, end_ms: float, asked: float
) -> list[float]:
    """Rows in each whole one-second window / asked. Windows begin half a row interval
    before the first row, so a row due exactly on a window edge is not split by jitter."""
    first = min(t for t in stamps if t >= start_ms)
    origin = first - 500 / asked
    ratios = []
    window = origin + 1000  # the first window holds the start-up; skip it
    while window + 2000 <= end_ms:  # the last one may be cut by the pause
        ratios.append(rate_between(stamps, window, window + 1000) / asked)
        window += 1000
    return ratios


def measure_accuracy(broker: KafkaBroker, server: StreamerServer, specs: dict) -> dict:
    result = {}
    for asked, seconds in ACCURACY_SECONDS.items():
        spec = specs[f"accuracy_{asked}"]
        start, end = run_streamer(server, spec.name, float(asked), seconds)
        ratios = per_second_ratios(timestamps_ms(broker, spec.raw_topic), start, end, float(asked))
        worst = max(ratios, key=lambda r: abs(r - 1))
        result[asked] = {
            "p50": round(statistics.median(ratios), 4),
            "worst": round(worst, 4),
            "windows": len(ratios),
        }
        log(f"accuracy at {asked} rows/s: {result[asked]}")
    return result


def measure_rate_change(broker: KafkaBroker, server: StreamerServer, spec: Any) -> float:
    """Seconds from sending the POST to the first 100 ms window after which every 100 ms
    window for the next 2 s is within 5% of the new rate (searched in 10 ms steps)."""
    old, new = 1000.0, 5000.0
    server.post(f"/streams/{spec.name}/rate", {"rows_per_second": old}).raise_for_status()
    server.post(f"/streams/{spec.name}/resume").raise_for_status()
    time.sleep(2.0)
    posted = time.time() * 1000
    server.post(f"/streams/{spec.name}/rate", {"rows_per_second": new}).raise_for_status()
    time.sleep(3.0)
    server.post(f"/streams/{spec.name}/pause").raise_for_status()
    server.wait_for(spec.name, lambda s: s["rows_unacked"] == 0, 60)
    stamps = timestamps_ms(broker, spec.raw_topic)
    for step in range(0, 1000, 10):
        start = posted + step
        windows = [rate_between(stamps, t, t + 100) for t in range_ms(start, start + 2000, 100)]
        if all(abs(w / new - 1) <= 0.05 for w in windows):
            return step / 1000
    return float("inf")


def range_ms(start: float, end: float, step: float) -> list[float]:
    return [start + i * step for i in range(int((end - start) // step))]


def main() -> int:
    jars = resolve_jars("kafka")
    with tempfile.TemporaryDirectory(prefix="bench-streamer-") as tmp:
        work = Path(tmp)
        with (
            ZooKeeperServer(jars, work / "zk") as zk,
            KafkaBroker(jars, zk, work / "kafka") as broker,
        ):
            log(f"broker up at {broker.bootstrap}")
            # One stream per measurement, each on its own topic.
            specs = {role: new_stream(broker) for role in ("max", "change")}
            specs.update({f"accuracy_{asked}": new_stream(broker) for asked in ACCURACY_SECONDS})
            max_spec, change_spec = specs["max"], specs["change"]
            config = streamer_config(broker.bootstrap, autostart="none")
            with StreamerServer(config, {s.name: s for s in specs.values()}) as server:
                streamer = measure_max(broker, server, max_spec, config.max_rate)
                log(f"streamer: {streamer:.0f} rows/s")
                accuracy = measure_accuracy(broker, server, specs)
                change = measure_rate_change(broker, server, change_spec)
                log(f"rate change held after {change:.2f} s")
            size = message_size(broker, max_spec.raw_topic)
            naive_topic = broker.create_topic("bench.naive", 1)
            naive = measure_naive(broker, naive_topic, size)
            log(f"naive loop: {naive:.0f} rows/s (record size {size} B)")
            java_topic = broker.create_topic("bench.java", 1)
            java = measure_java(broker, java_topic, size)
            log(f"Java ProducerPerformance: {java:.0f} rows/s")
    result = {
        "streamer_rows_per_s": round(streamer, 1),
        "naive_rows_per_s": round(naive, 1),
        "java_producer_rows_per_s": round(java, 1),
        "streamer_vs_naive": round(streamer / naive, 2),
        "streamer_vs_java_producer": round(streamer / java, 4),
        "record_size_bytes": size,
        "accuracy": accuracy,
        "rate_change_s": change,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
