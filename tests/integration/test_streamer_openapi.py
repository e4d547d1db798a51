"""schemathesis against the streamer's /openapi.json with every check, on the real Kafka.

Every operation of the document is called with examples, coverage cases (boundaries, each
parameter missing or wrong, undocumented methods) and generated data, positive and negative;
each response must keep what the document says.

The document is built at collection time, for the datasets and bounds the served app gets,
and the first test checks that the app serves exactly it. The calls go through the app's WSGI
interface (schemathesis's werkzeug transport; its requests transport does not work with the
urllib3 that grafana-client's niquests installs in the test venv). Streams run and the Kafka
view reads a real broker: temps has sent rows and a dead letter before the run, so the
view's answers hold records; sensors has no timestamp column (its speed-ups are 409s).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from kafka import KafkaProducer
from schemathesis.checks import CHECKS

from harness.streamer import DATASETS, StreamerServer, create_topics, streamer_config
from streamer.openapi import build
from streamer.schemas import RequestModels
from streamlab.specs import DatasetSpec, RateSpec, load_spec

pytestmark = pytest.mark.integration

# Small bounds, so that the rates schemathesis asks for keep the 2 cores free.
BOUNDS = {"max_rate": 100.0, "max_interval_s": 60.0, "max_speedup": 1000.0}
ENV = {"BIKES_FEED_URL": "http://127.0.0.1:9/"}


def _spec(name: str) -> DatasetSpec:
    """A shipped spec under a name of this module's own (the broker is shared)."""
    spec = load_spec(DATASETS / f"{name}.yaml", ENV)
    return dataclasses.replace(spec, name=f"openapi_{name}", rate=RateSpec("rows_per_second", 50))


SPECS = {spec.name: spec for spec in (_spec("temps"), _spec("sensors"))}
CONFIG = streamer_config("127.0.0.1:9", autostart="none", **BOUNDS)
TOPICS = [topic for spec in SPECS.values() for topic, _ in spec.topics]
DOCUMENT = build(CONFIG, RequestModels.build(CONFIG), SPECS, TOPICS)
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def server(kafka) -> Iterator[StreamerServer]:
    for spec in SPECS.values():
        create_topics(kafka, spec)
    config = dataclasses.replace(CONFIG, producer=streamer_config(kafka.bootstrap).producer)
    temps = SPECS["openapi_temps"]
    with StreamerServer(config, SPECS) as running:
        stream = running.manager.get(temps.name)
        stream.resume()
        running.wait_for(temps.name, lambda s: s["rows_acked"] >= 20)
        stream.pause()
        _deadletter(kafka.bootstrap, temps)
        yield running


def _deadletter(bootstrap: str, spec: DatasetSpec) -> None:
    """A dead letter as the Spark stage writes one."""
    message = {
        "dataset": spec.name,
        "reason": "field 'temp_f' is not a float: 'warm'",
        "record": {"date": "2010-01-01 05:30", "station": "seattle", "temp_f": "warm"},
        "stage": "spark",
        "topic": spec.raw_topic,
        "partition": 0,
        "offset": 3,
        "at": "2026-01-01T00:00:00.000000Z",
    }
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(spec.deadletter_topic, json.dumps(message).encode()).get(timeout=10)
    producer.close()


def test_the_app_serves_this_document(server: StreamerServer) -> None:
    assert requests.get(f"{server.url}/openapi.json", timeout=5).json() == DOCUMENT


@schema.parametrize()
def test_every_response_keeps_the_document(case: Any, server: StreamerServer) -> None:
    case.call_and_validate(app=server.app, checks=CHECKS.get_all())
