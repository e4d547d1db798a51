"""Validation of rate requests: every bad body raises ApiError with a 4xx."""

from __future__ import annotations

import json
from typing import get_args

import pytest

from harness.streamer import streamer_config
from streamer.control import ApiError, parse_rate
from streamer.pacing import Rate
from streamer.schemas import RateMode, StreamStatus, TimestampMode, rate_request
from streamer.stream import STREAM_STATES
from streamlab.specs import RATE_MODES, TIMESTAMP_MODES

CONFIG = streamer_config("x:1", max_rate=1000)
MODEL = rate_request(CONFIG)


def _parse(body: object, has_timestamps: bool = True) -> tuple[Rate, str | None]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_rate(data, MODEL, has_timestamps)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"rows_per_second": -5}, "invalid_rate"),
        ({"rows_per_second": 0}, "invalid_rate"),
        (b'{"rows_per_second": NaN}', "invalid_rate"),
        (b'{"rows_per_second": Infinity}', "invalid_rate"),
        ({"rows_per_second": 10**400}, "invalid_rate"),
        ({"rows_per_second": 1001}, "rate_too_high"),
        ({"interval_s": 1e-9}, "invalid_rate"),
        ({"rows_per_second": "fast"}, "invalid_rate"),
        ({"rows_per_second": "5"}, "invalid_rate"),
        ({"rows_per_second": True}, "invalid_rate"),
        ({"rows_per_second": 1, "speedup": 2}, "invalid_rate"),
        ({}, "invalid_rate"),
        ({"rate": 5}, "unknown_key"),
        ({"rows_per_second": 5, "rate": 5}, "unknown_key"),
        ([5], "invalid_body"),
        (None, "invalid_body"),
        (b"", "malformed_json"),
        (b'{"rows_per_second": 5', "malformed_json"),
        ({"rows_per_second": 5, "timestamps": "tomorrow"}, "invalid_timestamps"),
        ({"rows_per_second": 5, "timestamps": "scaled"}, "invalid_timestamps"),
    ],
)
def test_bad_bodies(body, code) -> None:
    with pytest.raises(ApiError) as caught:
        _parse(body)
    assert caught.value.status == 400
    assert caught.value.code == code


def test_messages_say_what_was_wrong() -> None:
    with pytest.raises(ApiError, match="'rows_per_second' must be greater than 0, got -5"):
        _parse({"rows_per_second": -5})
    with pytest.raises(ApiError, match="must be less than or equal to 1000, got 1001"):
        _parse({"rows_per_second": 1001})
    with pytest.raises(ApiError, match="'scaled' comes with a speedup"):
        _parse({"interval_s": 2, "timestamps": "scaled"})
    with pytest.raises(ApiError) as caught:
        _parse({"rows_per_second": "x" * 10_000})
    assert len(caught.value.message) < 200


def test_what_the_dataset_cannot_follow_is_a_conflict() -> None:
    for body in ({"speedup": 10}, {"rows_per_second": 5, "timestamps": "original"}):
        with pytest.raises(ApiError, match=r"no .*timestamp") as caught:
            _parse(body, has_timestamps=False)
        assert caught.value.status == 409
    assert _parse({"rows_per_second": 5, "timestamps": "send_time"}, False)[1] == "send_time"


def test_good_bodies() -> None:
    assert _parse({"rows_per_second": 250}) == (Rate("rows_per_second", 250.0), None)
    assert _parse({"interval_s": 0.5}) == (Rate("interval_s", 0.5), None)
    assert _parse({"speedup": 60, "timestamps": "scaled"}) == (Rate("speedup", 60.0), "scaled")
    assert _parse({"rows_per_second": 5, "timestamps": None}) == (Rate("rows_per_second", 5), None)


def test_modes_and_states_are_declared_once() -> None:
    """The API's types are the specs' tuples and the stream's states, not copies."""
    assert get_args(RateMode) == RATE_MODES
    assert get_args(TimestampMode) == TIMESTAMP_MODES
    schema = StreamStatus.model_json_schema()
    assert tuple(schema["properties"]["state"]["enum"]) == STREAM_STATES
    variants = MODEL.model_json_schema()["$defs"]
    assert {key for v in variants.values() for key in v["properties"]} == {
        *RATE_MODES,
        "timestamps",
    }
