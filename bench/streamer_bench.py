"""bench/run.sh streamer: the streamer's throughput and rate accuracy on a real broker.

Starts its own ZooKeeper and Kafka (the test harness, same jars as the image) and measures,
in one run, side by side:
- the streamer's sustained rows/s at its highest allowed rate;
- kafka-python alone: the records the streamer sent (keys, values, headers, partitions),
  sent again by a KafkaProducer with the streamer's producer settings, as fast as it takes
  them: no pacing, no bookkeeping (the ceiling of the streamer's own client);
- a naive replayer (send one row, wait for the ack, sleep the interval; interval 0);
- Kafka's own Java producer (org.apache.kafka.tools.ProducerPerformance), same record size;
- rate accuracy: rows per one-second window / asked rate, for 10, 1000 and 10000 rows/s;
- the time from a rate POST to the new rate holding;
- rows/s of a flat CSV spec (temps, read by pandas) and of a velib-shaped nested spec
  (JSON Lines of GBFS snapshots: records_path, JMESPath paths into a nested list, a
  filter that keeps half the stations), at the highest allowed rate;
- the peak memory (VmHWM of a process of its own) of reading a generated 1 GB CSV,
  gzip-compressed on disk, through the CSV source to its end (chunks: bounded memory).
Figures come from the broker's record timestamps, not from the streamer's own counters.
The last line printed is one JSON object.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import re
import resource
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
from streamlab.specs import RateSpec, load_spec, parse_spec  # noqa: E402

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


def measure_kafka_python(
    broker: KafkaBroker, records: list, topic: str, producer_kwargs: dict[str, Any]
) -> float:
    """The streamer's records sent again by kafka-python alone, for MAX_SECONDS; rows/s
    from the broker's record timestamps, as for the streamer."""
    producer = KafkaProducer(**producer_kwargs)
    start = time.time() * 1000
    sent = 0
    for record in itertools.cycle(records):
        producer.send(
            topic, value=record.value, key=record.key, partition=record.partition,
            headers=list(record.headers),
        )  # fmt: skip
        sent += 1
        if sent % 1000 == 0 and time.time() * 1000 - start > MAX_SECONDS * 1000:
            break
    producer.flush()
    end = time.time() * 1000
    producer.close()
    stamps = timestamps_ms(broker, topic, expected=sent)
    return rate_between(stamps, start + 1000, end - 1000)


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


VELIB_STATIONS = 50
VELIB_SNAPSHOTS = 4000
BIG_CSV_BYTES = 10**9


def velib_spec(work: Path) -> Any:
    """A velib-shaped nested spec over JSON Lines of GBFS snapshots (generated here)."""
    rng = random.Random(4)
    codes = [f"{16000 + i}" for i in range(VELIB_STATIONS)]
    path = work / "velib.jsonl.gz"
    with gzip.open(path, "wt", compresslevel=1) as out:
        for snapshot in range(VELIB_SNAPSHOTS):
            stations = []
            for i, code in enumerate(codes):
                mech, ebike = rng.randint(0, 20), rng.randint(0, 20)
                stations.append({
                    "stationCode": code, "station_id": 1000 + i, "num_bikes_available": mech + ebike,
                    "num_bikes_available_types": [{"mechanical": mech}, {"ebike": ebike}],
                    "num_docks_available": 40 - mech - ebike, "is_installed": 1,
                    "last_reported": 1_707_263_000 + snapshot,
                })  # fmt: skip
            out.write(json.dumps({"data": {"stations": stations}}) + "\n")
    kept = json.dumps(codes[::2]).replace('"', "'")
    document = {
        "name": f"velib_{rng.randrange(10**8)}",
        "source": {"type": "jsonl", "path": str(path), "at_end": "loop",
                   "records_path": "data.stations", "filter": f"contains({kept}, stationCode)"},
        "timestamp": {"column": "last_reported", "format": "epoch_s"},
        "key": "station_id",
        "tags": [{"name": "station_id", "path": "to_string(station_id)"}],
        "fields": {
            "bikes": {"type": "int", "path": "num_bikes_available"},
            "mechanical": {"type": "int", "path": "num_bikes_available_types[0].mechanical"},
            "ebike": {"type": "int", "path": "num_bikes_available_types[1].ebike"},
        },
        "topic": {"partitions": 2},
    }  # fmt: skip
    return parse_spec(document, work / "velib.yaml", {})


def measure_spec(broker: KafkaBroker, spec: Any, max_rate: float) -> dict[str, float]:
    """A spec's rows/s at the highest allowed rate; records/s counts the filtered ones too."""
    create_topics(broker, spec)
    config = streamer_config(broker.bootstrap, autostart="none")
    with StreamerServer(config, {spec.name: spec}) as server:
        start, end = run_streamer(server, spec.name, max_rate, MAX_SECONDS)
        status = server.wait_for(spec.name, lambda s: s["rows_unacked"] == 0, 60)
    stamps = timestamps_ms(broker, spec.raw_topic)
    rows = rate_between(stamps, start + 1000, end - 1000)
    kept = status["rows_sent"] / (status["rows_sent"] + status["rows_filtered"])
    return {"rows_per_s": round(rows, 1), "records_per_s": round(rows / kept, 1)}


def big_csv(path: Path, size: int) -> int:
    """A CSV of `size` bytes (gzip level 1 on disk): sensor, time, three numbers; rows."""
    block = "".join(
        f"s{i % 7},2024-01-01 00:{i % 60:02d}:00,{i % 97 / 4:.2f},{i % 13},{i * 7 % 101 / 3:.3f}\n"
        for i in range(10_000)
    )
    rows = written = 0
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write("sensor,time,temp,count,humidity\n")
        while written < size:
            out.write(block)
            written += len(block)
            rows += 10_000
    return rows


def read_big_csv(path: str) -> None:
    """Run in a process of its own: every row of the file through the CSV source; prints
    rows, seconds and the process's peak RSS in MiB as JSON."""
    from streamer.sources import CsvRows

    spec_file = Path(path).with_suffix(".yaml")
    spec_file.write_text(json.dumps({
        "name": "big", "source": {"type": "csv", "path": Path(path).name, "at_end": "stop"},
        "timestamp": {"column": "time", "format": "%Y-%m-%d %H:%M:%S"}, "tags": ["sensor"],
        "fields": {"temp": "float", "count": "int", "humidity": "float"},
    }))  # fmt: skip
    spec = load_spec(spec_file)
    source, rows, started = CsvRows(spec.source), 0, time.monotonic()
    while source.next_row() is not None:
        rows += 1
    print(
        json.dumps({"rows": rows, "seconds": time.monotonic() - started, "peak_mib": _peak_mib()})
    )


def _peak_mib() -> float:
    """This process's peak RSS since its exec (VmHWM). Not ru_maxrss: Linux carries that
    over from the parent that forked it, here the whole bench with its broker clients."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def measure_big_csv(work: Path) -> dict[str, float]:
    path = work / "big.csv.gz"
    rows = big_csv(path, BIG_CSV_BYTES)
    log(f"generated {path.name}: {BIG_CSV_BYTES / 1e9:.1f} GB of CSV, {rows} rows, "
        f"{path.stat().st_size / 2**20:.0f} MiB gzip")  # fmt: skip
    out = subprocess.run(
        [sys.executable, __file__, "--read-big-csv", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    return {
        "csv_bytes": BIG_CSV_BYTES, "gzip_bytes": path.stat().st_size, "rows": result["rows"],
        "rows_per_s": round(result["rows"] / result["seconds"], 1),
        "peak_memory_mib": round(result["peak_mib"], 1),
    }  # fmt: skip


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
            sent = read_topic(broker.bootstrap, max_spec.raw_topic, timeout=120)
            alone_topic = broker.create_topic("bench.kafka_python", max_spec.partitions)
            alone = measure_kafka_python(broker, sent, alone_topic, config.producer.kafka_kwargs())
            log(f"kafka-python alone: {alone:.0f} rows/s")
            naive_topic = broker.create_topic("bench.naive", 1)
            naive = measure_naive(broker, naive_topic, size)
            log(f"naive loop: {naive:.0f} rows/s (record size {size} B)")
            java_topic = broker.create_topic("bench.java", 1)
            java = measure_java(broker, java_topic, size)
            log(f"Java ProducerPerformance: {java:.0f} rows/s")
            flat = measure_spec(broker, unique_spec("temps"), config.max_rate)
            log(f"flat CSV spec (temps): {flat}")
            nested = measure_spec(broker, velib_spec(work), config.max_rate)
            log(f"velib-shaped nested spec: {nested}")
        big = measure_big_csv(work)
        log(f"1 GB gzip CSV through the CSV source: {big}")
    result = {
        "streamer_rows_per_s": round(streamer, 1),
        "kafka_python_alone_rows_per_s": round(alone, 1),
        "streamer_vs_kafka_python_alone": round(streamer / alone, 3),
        "naive_rows_per_s": round(naive, 1),
        "java_producer_rows_per_s": round(java, 1),
        "streamer_vs_naive": round(streamer / naive, 2),
        "streamer_vs_java_producer": round(streamer / java, 4),
        "record_size_bytes": size,
        "accuracy": accuracy,
        "rate_change_s": change,
        "flat_csv_spec": flat,
        "nested_velib_spec": nested,
        "big_gzip_csv": big,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--read-big-csv"]:
        sys.exit(read_big_csv(sys.argv[2]))
    sys.exit(main())
