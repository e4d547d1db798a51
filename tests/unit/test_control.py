"""Validation of rate requests: every bad body raises ApiError with a 4xx."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamer.config import ProducerConfig, StreamerConfig
from streamer.control import ApiError, parse_rate
from streamer.pacing import Rate

CONFIG = StreamerConfig(datasets_dir=Path("."), producer=ProducerConfig("x:1"), max_rate=1000)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"rows_per_second": -5}, "invalid_rate"),
        ({"rows_per_second": 0}, "invalid_rate"),
        ({"rows_per_second": float("nan")}, "invalid_rate"),
        ({"rows_per_second": float("inf")}, "invalid_rate"),
        ({"rows_per_second": 10**400}, "rate_too_high"),
        ({"rows_per_second": 1001}, "rate_too_high"),
        ({"rows_per_second": "fast"}, "invalid_rate"),
        ({"rows_per_second": True}, "invalid_rate"),
        ({"rows_per_second": 1, "speedup": 2}, "invalid_rate"),
        ({}, "invalid_rate"),
        ({"rate": 5}, "unknown_key"),
        ([5], "invalid_body"),
        (None, "invalid_body"),
        ({"rows_per_second": 5, "timestamps": "tomorrow"}, "invalid_timestamps"),
        ({"rows_per_second": 5, "timestamps": "scaled"}, "invalid_timestamps"),
    ],
)
def test_bad_bodies(body, code) -> None:
    with pytest.raises(ApiError) as caught:
        parse_rate(body, CONFIG, has_timestamps=True)
    assert 400 <= caught.value.status < 500
    assert caught.value.code == code


def test_speedup_needs_timestamps() -> None:
    with pytest.raises(ApiError, match="no timestamp"):
        parse_rate({"speedup": 10}, CONFIG, has_timestamps=False)


def test_good_bodies() -> None:
    assert parse_rate({"rows_per_second": 250}, CONFIG, True) == (
        Rate("rows_per_second", 250.0),
        None,
    )
    assert parse_rate({"interval_s": 0.5}, CONFIG, True) == (Rate("interval_s", 0.5), None)
    assert parse_rate({"speedup": 60, "timestamps": "scaled"}, CONFIG, True) == (
        Rate("speedup", 60.0),
        "scaled",
    )
