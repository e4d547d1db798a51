"""The pacer's deadlines, on a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streamer.pacing import Pacer, Rate


def test_rows_per_second_deadlines_are_absolute() -> None:
    pacer = Pacer(Rate("rows_per_second", 4))
    assert pacer.deadline(100.0, 0, None) == 100.0
    # Sending late does not push later rows back: row 2 is still due at 100.5.
    assert pacer.deadline(100.3, 1, None) == 100.25
    assert pacer.deadline(100.3, 2, None) == 100.5


def test_interval_mode() -> None:
    pacer = Pacer(Rate("interval_s", 2))
    assert pacer.deadline(10.0, 5, None) == 10.0
    assert pacer.deadline(10.0, 6, None) == 12.0


def test_rate_change_reanchors_at_the_next_row() -> None:
    pacer = Pacer(Rate("rows_per_second", 1))
    pacer.deadline(0.0, 0, None)
    assert pacer.deadline(0.5, 1, None) == 1.0
    pacer.set_rate(Rate("rows_per_second", 100))
    assert pacer.deadline(0.5, 1, None) == 0.5
    assert pacer.deadline(0.5, 2, None) == pytest.approx(0.51)


def test_far_behind_restarts_the_schedule_instead_of_bursting() -> None:
    pacer = Pacer(Rate("rows_per_second", 10), max_lag_s=1.0)
    pacer.deadline(0.0, 0, None)
    assert pacer.deadline(5.0, 1, None) == 5.0
    assert pacer.deadline(5.0, 2, None) == pytest.approx(5.1)


def test_speedup_follows_original_spacing() -> None:
    start = datetime(2010, 1, 1, tzinfo=UTC)
    pacer = Pacer(Rate("speedup", 3600))
    assert pacer.deadline(0.0, 0, start) == 0.0
    assert pacer.deadline(0.0, 1, start + timedelta(hours=1)) == pytest.approx(1.0)
    assert pacer.deadline(0.0, 2, start + timedelta(hours=1)) == pytest.approx(1.0)
    # A looped replay jumps back in original time: the schedule starts again.
    assert pacer.deadline(1.2, 3, start) == 1.2


def test_rate_reports_rows_per_second() -> None:
    assert Rate("interval_s", 4).rows_per_second == 0.25
    assert Rate("speedup", 10).rows_per_second is None
