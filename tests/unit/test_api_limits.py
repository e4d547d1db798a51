"""The control API's limits, through the Flask test client (no Kafka): bodies nested too
deeply or too large get a 4xx JSON error, and every 405 says in Allow what is allowed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from harness.streamer import streamer_config, unique_spec
from streamer.app import create_app
from streamer.body import json_depth
from streamer.config import ApiLimits
from streamlab.settings import Settings

LIMITS = ApiLimits.from_settings(Settings.load())
DEPTH = LIMITS.max_json_depth
JSON = "application/json"


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    spec = unique_spec("temps")
    app = create_app(streamer_config("127.0.0.1:9"), {spec.name: spec}, start=False)
    app.config["TEST_STREAM"] = spec.name
    yield app
    app.extensions["streamlab.manager"].stop()


@pytest.fixture
def client(app) -> Any:
    return app.test_client()


def _rate(app: Any) -> str:
    return f"/streams/{app.config['TEST_STREAM']}/rate"


def _nested(depth: int) -> bytes:
    return b'{"rows_per_second": 5, "x": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["status"] == status and body["error"] and body["message"]
    return body


def test_json_depth_counts_brackets_outside_strings() -> None:
    assert json_depth(b'{"rows_per_second": 5}') == 1
    assert json_depth(b"5") == 0
    assert json_depth(b'[[1], {"a": [2]}]') == 3
    assert json_depth(b'{"a": "[[[[{{{{", "b": "\\"[[[["}') == 1
    assert json_depth(b"[" * 100_000) == 100_000


@pytest.mark.parametrize("depth", [DEPTH + 1, 5000, 60_000])
def test_a_body_nested_too_deeply_is_a_400(app, client, depth: int) -> None:
    arrays = b"[" * depth + b"]" * depth
    body = _error(
        client.post(_rate(app), data=arrays[: LIMITS.max_body_bytes], content_type=JSON), 400
    )
    assert body["error"] == "too_deep" and str(DEPTH) in body["message"]
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    if len(objects) <= LIMITS.max_body_bytes:
        assert (
            _error(client.post(_rate(app), data=objects, content_type=JSON), 400)["error"]
            == "too_deep"
        )


def test_the_depth_limit_is_the_documented_one(app, client) -> None:
    assert str(DEPTH) in client.get("/openapi.json").get_json()["info"]["description"]
    at_limit = client.post(_rate(app), data=_nested(DEPTH), content_type=JSON)
    assert _error(at_limit, 400)["error"] == "unknown_key"  # read, then refused for "x"
    over = client.post(_rate(app), data=_nested(DEPTH + 1), content_type=JSON)
    assert _error(over, 400)["error"] == "too_deep"


def test_every_body_is_limited_even_where_none_is_read(app, client) -> None:
    pause = f"/streams/{app.config['TEST_STREAM']}/pause"
    deep = b"[" * 5000 + b"]" * 5000
    assert _error(client.post(pause, data=deep, content_type=JSON), 400)["error"] == "too_deep"
    large = b"x" * (LIMITS.max_body_bytes + 1)
    assert _error(client.post(pause, data=large, content_type="text/plain"), 413)


def test_a_body_over_the_size_limit_is_a_413(app, client) -> None:
    padding = LIMITS.max_body_bytes
    body = b'{"rows_per_second": 5, "x": "' + b"a" * padding + b'"}'
    error = _error(client.post(_rate(app), data=body, content_type=JSON), 413)
    assert str(LIMITS.max_body_bytes) in error["message"]
    one_over = b'{"rows_per_second": 5}'.ljust(LIMITS.max_body_bytes + 1)
    assert _error(client.post(_rate(app), data=one_over, content_type=JSON), 413)
    fits = b'{"rows_per_second": 5}'.ljust(LIMITS.max_body_bytes)
    response = client.post(_rate(app), data=fits, content_type=JSON)
    assert response.status_code == 200, response.get_json()


def _paths(app: Any, client: Any) -> Iterator[tuple[str, set[str]]]:
    document = client.get("/openapi.json").get_json()
    stream = app.config["TEST_STREAM"]
    for template, operations in document["paths"].items():
        path = template.replace("{name}", stream).replace("{topic}", f"{stream}.raw")
        yield path, {method.upper() for method in operations}


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "TRACE", "POST", "GET"])
def test_every_405_carries_allow(app, client, method: str) -> None:
    checked = 0
    for path, documented in _paths(app, client):
        if method in documented:
            continue
        response = client.open(path, method=method)
        body = _error(response, 405)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed - {"HEAD", "OPTIONS"} == documented, path
        assert body["error"] == "method_not_allowed" and method in body["message"]
        checked += 1
    assert checked


def test_a_405_of_the_control_routes_names_the_method_to_use(app, client) -> None:
    response = client.get(_rate(app))
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"POST", "OPTIONS"}
    assert response.get_json()["message"] == "GET is not allowed here: use POST"


def test_unknown_topics_are_a_404(client) -> None:
    response = client.get("/kafka/topics/__consumer_offsets/records")
    assert _error(response, 404)["error"] == "unknown_topic"


@pytest.mark.parametrize("limit", ["0", "-1", "x", "1.5", str(LIMITS.max_records + 1)])
def test_a_bad_limit_is_a_400(app, client, limit: str) -> None:
    stream = app.config["TEST_STREAM"]
    for path in ("/kafka/deadletters", f"/kafka/topics/{stream}.raw/records"):
        response = client.get(path, query_string={"limit": limit})
        assert _error(response, 400)["error"] == "invalid_limit"


def test_settings_give_the_limits() -> None:
    values = {**Settings.load().values, "STREAMER_MAX_JSON_DEPTH": "3"}
    limits = ApiLimits.from_settings(Settings(values))
    assert dataclasses.replace(LIMITS, max_json_depth=3) == limits
    missing = {k: v for k, v in values.items() if k != "STREAMER_MAX_BODY_BYTES"}
    with pytest.raises(ValueError, match="STREAMER_MAX_BODY_BYTES"):
        ApiLimits.from_settings(Settings(missing))
