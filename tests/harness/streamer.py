"""Run the real streamer app on 127.0.0.1 against a broker, and read back what it sent."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from kafka import KafkaConsumer, TopicPartition
from werkzeug.serving import make_server

from harness.gbfs import GbfsFeed
from streamer.app import create_app
from streamer.config import StreamerConfig
from streamlab.settings import Settings
from streamlab.specs import CsvSource, DatasetSpec, RateSpec, load_spec
from streamlab.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"
SETTINGS_FILE = ROOT / "settings.env"


def streamer_config(bootstrap: str, **overrides: Any) -> StreamerConfig:
    """settings.env's config, for a broker at `bootstrap`: no control events (unless
    overrides give them), no API keys, and Kafka outages noticed sooner."""
    settings = Settings.load(SETTINGS_FILE, environ={"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    base = StreamerConfig.from_settings(settings)
    for_tests = {
        "events": dataclasses.replace(base.events, influx_url=""), "header_env": {},
        "kafka_stall_s": 1.0, "kafka_retry_s": 0.5,
    }  # fmt: skip
    return dataclasses.replace(base, **{**for_tests, **overrides})


def unique_spec(name: str, env: dict[str, str] | None = None, **changes: Any) -> DatasetSpec:
    """A shipped spec under a unique dataset name, so tests on one broker never share topics."""
    spec = load_spec(DATASETS / f"{name}.yaml", env or {"BIKES_FEED_URL": "http://127.0.0.1:9/"})
    return dataclasses.replace(spec, name=f"{name}_{uuid.uuid4().hex[:8]}", **changes)


def csv_spec(
    tmp: Path, rows: Iterable[dict[str, Any]], rate: float, at_end: str = "stop"
) -> DatasetSpec:
    """The temps spec replaying the given rows (date, station, temp_f) from a file in tmp."""
    path = tmp / f"rows-{uuid.uuid4().hex[:6]}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["date", "station", "temp_f"])
        writer.writeheader()
        writer.writerows(rows)
    return unique_spec(
        "temps", source=CsvSource(path=path, at_end=at_end), rate=RateSpec("rows_per_second", rate)
    )


def create_topics(broker: Any, spec: DatasetSpec) -> None:
    """The dataset's topics, as the provisioner makes them (spec.topics)."""
    for topic, _ in spec.topics:
        broker.create_topic(topic, spec.partitions)


class StreamerServer:
    """The Flask app served by werkzeug in a thread: real HTTP on a free port."""

    def __init__(self, config: StreamerConfig, specs: dict[str, DatasetSpec]) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.app = create_app(config, specs)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def manager(self):
        return self.app.extensions["streamlab.manager"]

    def status(self, name: str) -> dict[str, Any]:
        response = requests.get(f"{self.url}/streams/{name}", timeout=5)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return requests.post(f"{self.url}{path}", json=body, timeout=5, **kwargs)

    def wait_for(
        self, name: str, check: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict:
        return wait_for(
            lambda: self.status(name), f"stream {name}", timeout, interval_s=0.1, accept=check
        )

    def close(self) -> None:
        self._server.shutdown()
        self.manager.stop()

    def __enter__(self) -> StreamerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_topic(
    bootstrap: str, topic: str, expected: int | None = None, timeout: float = 30.0
) -> list:
    """Every record of a topic from the beginning: until `expected` arrive, or the end offsets."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000
    )
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    end = consumer.end_offsets(partitions)
    records: list = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=500)
            for items in batch.values():
                records.extend(items)
            if expected is not None and len(records) >= expected:
                break
            if expected is None and all(consumer.position(tp) >= end[tp] for tp in partitions):
                break
    finally:
        consumer.close()
    return records


def values(records: list) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


def _handled(status: dict) -> int:
    return status["rows_sent"] + status["rows_filtered"] + status["rows_deadlettered"]


def _feed_sequence(
    feed: GbfsFeed, server: StreamerServer, name: str, documents: list, new: list[int]
) -> dict:
    """Serves each document in turn, until the streamer has handled its `new` records."""
    handled = 0
    for document, count in zip(documents, new, strict=True):
        feed.document = document
        handled += count
        server.wait_for(name, lambda s, n=handled: _handled(s) >= n, 20)
    return server.wait_for(name, lambda s: s["rows_unacked"] == 0, 30)


def http_example(
    kafka, name: str, documents: list, new: list[int]
) -> tuple[DatasetSpec, dict, list[dict]]:
    """An http example's spec streamed from a local feed serving `documents` in turn (each
    adding `new[i]` records); its spec, final status and the rows of its raw topic."""
    with GbfsFeed(documents[0]) as feed:
        spec = unique_spec(name, env={"VELIB_FEED_URL": feed.url, "USERS_FEED_URL": feed.url})
        source = dataclasses.replace(spec.source, poll_interval_s=0.05)
        spec = dataclasses.replace(spec, source=source, rate=RateSpec("rows_per_second", 5000))
        create_topics(kafka, spec)
        with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
            server.post(f"/streams/{spec.name}/resume")
            status = _feed_sequence(feed, server, spec.name, documents, new)
    rows = values(read_topic(kafka.bootstrap, spec.raw_topic, expected=status["rows_acked"]))
    return spec, status, rows


def feed_documents(folder: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((DATASETS / "feeds" / folder).glob("*"))]


def stream_to_end(kafka: Any, spec: DatasetSpec) -> pd.DataFrame:
    """Every row of the spec streamed to its raw topic; the records read back from it."""
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        server.wait_for(spec.name, lambda s: s["state"] == "finished" and s["rows_unacked"] == 0)
        sent = server.status(spec.name)["rows_acked"]
    frame = pd.DataFrame(values(read_topic(kafka.bootstrap, spec.raw_topic, expected=sent)))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def new_versions(snapshots: list[dict]) -> list[int]:
    """The records each GBFS snapshot adds once deduplicated (a station's new last_reported)."""
    seen: dict[Any, Any] = {}
    counts = []
    for snapshot in snapshots:
        stations = snapshot["data"]["stations"]
        fresh = [s for s in stations if seen.get(s["station_id"]) != s["last_reported"]]
        seen.update({s["station_id"]: s["last_reported"] for s in fresh})
        counts.append(len(fresh))
    return counts
