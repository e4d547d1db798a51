"""Every bad control request gets a 4xx JSON error, changes nothing, and the stream goes on."""

from __future__ import annotations

import pytest
import requests

from harness.streamer import StreamerServer, create_topics, streamer_config, unique_spec
from streamlab.specs import RateSpec

pytestmark = pytest.mark.integration

RATE = {"mode": "rows_per_second", "value": 200.0, "rows_per_second": 200.0}
JSON = {"Content-Type": "application/json"}

BAD_REQUESTS = {
    "negative": ("/rate", b'{"rows_per_second": -10}', JSON, 400),
    "zero": ("/rate", b'{"rows_per_second": 0}', JSON, 400),
    "nan": ("/rate", b'{"rows_per_second": NaN}', JSON, 400),
    "infinity": ("/rate", b'{"rows_per_second": Infinity}', JSON, 400),
    "huge": ("/rate", b'{"rows_per_second": 1e300}', JSON, 400),
    "huge_integer": ("/rate", b'{"rows_per_second": ' + b"9" * 500 + b"}", JSON, 400),
    "non_numeric": ("/rate", b'{"rows_per_second": "fast"}', JSON, 400),
    "boolean": ("/rate", b'{"rows_per_second": true}', JSON, 400),
    "two_modes": ("/rate", b'{"rows_per_second": 5, "interval_s": 1}', JSON, 400),
    "unknown_key": ("/rate", b'{"rps": 5}', JSON, 400),
    "not_an_object": ("/rate", b"[5]", JSON, 400),
    "wrong_content_type": ("/rate", b'{"rows_per_second": 5}', {"Content-Type": "text/plain"}, 415),
    "form_encoded": (
        "/rate",
        b"rows_per_second=5",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
    ),
    "malformed_json": ("/rate", b'{"rows_per_second": 5', JSON, 400),
    "empty_body": ("/rate", b"", JSON, 400),
    "too_large": ("/rate", b'{"rows_per_second": 5, "x": "' + b"a" * 70000 + b'"}', JSON, 413),
    "unknown_action": ("/explode", b"", JSON, 404),
    "too_deep": ("/rate", b"[" * 5000 + b"]" * 5000, JSON, 400),
    "too_deep_objects": ("/rate", b'{"a":' * 5000 + b"1" + b"}" * 5000, JSON, 400),
    "deep_to_an_action": ("/pause", b"[" * 5000 + b"]" * 5000, JSON, 400),
}


@pytest.fixture(scope="module")
def running(kafka):
    spec = unique_spec("sensors", rate=RateSpec("rows_per_second", 200))
    create_topics(kafka, spec)
    with StreamerServer(streamer_config(kafka.bootstrap), {spec.name: spec}) as server:
        server.manager.get(spec.name).resume()
        server.wait_for(spec.name, lambda s: s["rows_sent"] > 0)
        yield server, spec.name


def _assert_still_streaming(server: StreamerServer, name: str) -> None:
    before = server.status(name)
    after = server.wait_for(name, lambda s: s["rows_sent"] >= before["rows_sent"] + 20, timeout=10)
    assert after["state"] == "running" and after["rate"] == RATE


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_request_is_rejected_and_the_stream_goes_on(running, case) -> None:
    server, name = running
    path, body, headers, status = BAD_REQUESTS[case]
    response = requests.post(
        f"{server.url}/streams/{name}{path}", data=body, headers=headers, timeout=5
    )
    assert response.status_code == status
    error = response.json()
    assert error["status"] == status and error["error"] and error["message"]
    _assert_still_streaming(server, name)


def test_unknown_stream(running) -> None:
    server, name = running
    response = server.post("/streams/nope/rate", {"rows_per_second": 5})
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_stream" and name in response.json()["message"]
    assert requests.get(f"{server.url}/streams/nope", timeout=5).status_code == 404
    _assert_still_streaming(server, name)


def test_a_body_sent_without_a_length_is_cut_at_the_size_limit(running) -> None:
    """Chunked transfer: no Content-Length to refuse up front, werkzeug stops reading."""
    server, name = running
    limit = server.app.config["STREAMER"].api.max_body_bytes
    chunks = (b"[" * 1024 for _ in range(limit // 1024 + 2))
    response = requests.post(
        f"{server.url}/streams/{name}/rate", data=chunks, headers=JSON, timeout=5
    )
    assert response.status_code == 413 and response.json()["error"] == "request_entity_too_large"
    _assert_still_streaming(server, name)


def test_wrong_method_and_unknown_path_are_json(running) -> None:
    server, name = running
    wrong = requests.get(f"{server.url}/streams/{name}/rate", timeout=5)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert {m.strip() for m in wrong.headers["Allow"].split(",")} == {"POST", "OPTIONS"}
    delete = requests.delete(f"{server.url}/streams/{name}", timeout=5)
    assert delete.status_code == 405 and "GET" in delete.headers["Allow"]
    missing = requests.get(f"{server.url}/nothing/here", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    _assert_still_streaming(server, name)


def test_openapi_lists_every_route(running) -> None:
    server, _ = running
    document = requests.get(f"{server.url}/openapi.json", timeout=5).json()
    assert document["openapi"].startswith("3.")
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in server.app.url_map.iter_rules()
        if not rule.endpoint.endswith("static")  # the control page's files, not the API
    }
    documented = set(document["paths"])
    actions = {f"/streams/{{name}}/{a}" for a in ("pause", "resume", "restart")}
    assert documented == (routes - {"/streams/{name}/{action}"}) | actions


def test_health_reports_kafka_and_streams(running) -> None:
    server, name = running
    health = requests.get(f"{server.url}/health", timeout=5).json()
    assert health["status"] == "ok" and health["kafka"] == "connected"
    assert health["streams"][name] == "running"
