"""A streamer that starts again carries on where Kafka says its streams left off (resume.py):
each row once, seq unbroken, dead letters once, on the real broker.

A crash is made exact: a first streamer runs a file to Kafka; a prefix of each of its
partitions (different lengths, as when in-flight batches die with the process) is copied
into the topics of a second dataset on the same file; a second streamer then runs that
dataset, and must end with exactly what the first wrote.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from kafka import KafkaProducer

from harness.streamer import (
    StreamerServer,
    create_topics,
    csv_spec,
    read_topic,
    streamer_config,
    unique_spec,
)
from streamer.resume import Position

STATIONS = ("seattle", "san francisco", "boston")


def _rows(count: int) -> list[dict[str, str]]:
    rows = [
        {
            "date": f"2010-02-{1 + i // 48:02d} {i // 2 % 24:02d}:00",
            "station": STATIONS[i % 3],
            "temp_f": f"{50 + i % 13}.5",
        }
        for i in range(count)
    ]
    for i in range(7, count, 97):  # a bad row now and then: dead letters are resumed too
        rows[i] = {**rows[i], "temp_f": "n/a"}
    return rows


def _by_partition(records: list) -> dict[int, list[dict[str, Any]]]:
    """Each partition's messages, without the per-send fields (ts, sent_ms, at)."""
    parts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        message = json.loads(record.value)
        for varying in ("ts", "sent_ms", "at"):
            message.pop(varying, None)
        parts[record.partition].append(message)
    return dict(parts)


def _in_order(letters: list) -> list[tuple[Position, Any]]:
    """Dead letters by their place in the source, without what names the dataset."""
    return sorted(
        ((Position.of(r), json.loads(r.value)["record"]) for r in letters),
        key=lambda pair: pair[0].place(),
    )


def _copy_prefix(bootstrap: str, records: list, topic: str, keep: dict[int, int]) -> int:
    """The first keep[partition] records of each partition, headers and all, into topic."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    counts: dict[int, int] = defaultdict(int)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        if counts[record.partition] < keep.get(record.partition, 0):
            producer.send(
                topic,
                key=record.key,
                value=record.value,
                partition=record.partition,
                headers=list(record.headers),
            )
            counts[record.partition] += 1
    producer.flush()
    producer.close()
    return sum(counts.values())


def _run_to_end(bootstrap: str, spec) -> dict[str, Any]:
    config = streamer_config(bootstrap, autostart="all")
    with StreamerServer(config, {spec.name: spec}) as server:
        return server.wait_for(
            spec.name, lambda s: s["state"] == "finished" and s["rows_unacked"] == 0, 60
        )


def test_a_restarted_streamer_sends_each_row_once(kafka, tmp_path) -> None:
    rows = _rows(900)
    first = csv_spec(tmp_path, rows, rate=20_000)
    create_topics(kafka, first)
    _run_to_end(kafka.bootstrap, first)
    raw = read_topic(kafka.bootstrap, first.raw_topic)
    dead = read_topic(kafka.bootstrap, first.deadletter_topic)
    assert {r.partition for r in raw} == {0, 1}, "the test wants rows in both partitions"

    # The second dataset reads the same file; its topics hold uneven prefixes of the first's.
    second = unique_spec("temps", source=first.source, rate=first.rate)
    create_topics(kafka, second)
    kept = _copy_prefix(kafka.bootstrap, raw, second.raw_topic, {0: 211, 1: 97})
    dead_partition = dead[0].partition
    _copy_prefix(kafka.bootstrap, dead, second.deadletter_topic, {dead_partition: 2})
    status = _run_to_end(kafka.bootstrap, second)

    resumed_raw = read_topic(kafka.bootstrap, second.raw_topic)
    resumed_dead = read_topic(kafka.bootstrap, second.deadletter_topic)
    assert len(resumed_raw) == len(raw), f"{len(resumed_raw)} rows, the first run sent {len(raw)}"
    assert _by_partition(resumed_raw) == _by_partition(raw)
    assert sorted(json.loads(r.value)["seq"] for r in resumed_raw) == list(range(len(raw)))
    assert _in_order(resumed_dead) == _in_order(dead)
    assert status["rows_sent"] == status["rows_acked"] == len(raw)
    assert len(raw) - kept > 0


def test_a_restarted_looping_stream_resumes_in_its_round(kafka, tmp_path) -> None:
    rows = _rows(60)
    first = csv_spec(tmp_path, rows, rate=2_000, at_end="loop")
    create_topics(kafka, first)
    config = streamer_config(kafka.bootstrap, autostart="all")
    with StreamerServer(config, {first.name: first}) as server:
        server.wait_for(first.name, lambda s: s["rows_acked"] >= 200, 30)
        server.post(f"/streams/{first.name}/pause")
        server.wait_for(first.name, lambda s: s["rows_unacked"] == 0)
    raw = read_topic(kafka.bootstrap, first.raw_topic)
    rounds = {Position.of(r).round for r in raw}
    assert max(rounds) >= 3, f"the first run read the file {max(rounds) + 1} times"

    second = unique_spec("temps", source=first.source, rate=first.rate)
    create_topics(kafka, second)
    # Cut inside round 2 for one partition and inside round 1 for the other.
    cut = {0: _count_before(raw, 0, (2, 11)), 1: _count_before(raw, 1, (1, 40))}
    _copy_prefix(kafka.bootstrap, raw, second.raw_topic, cut)
    with StreamerServer(config, {second.name: second}) as server:
        server.wait_for(second.name, lambda s: s["rows_acked"] >= len(raw), 30)
        server.post(f"/streams/{second.name}/pause")
        server.wait_for(second.name, lambda s: s["rows_unacked"] == 0)
    resumed = read_topic(kafka.bootstrap, second.raw_topic)
    mine, theirs = _by_partition(resumed), _by_partition(raw)
    for partition, messages in theirs.items():
        assert mine[partition][: len(messages)] == messages, f"partition {partition} differs"
    seqs = [json.loads(r.value)["seq"] for r in resumed]
    assert len(seqs) == len(set(seqs)), "a seq was sent twice"


def _count_before(records: list, partition: int, place: tuple[int, int]) -> int:
    return sum(1 for r in records if r.partition == partition and Position.of(r).place() <= place)
