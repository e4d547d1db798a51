"""The one wait loop (streamlab.waiting), on a simulated clock."""

from __future__ import annotations

import pytest

from streamlab.waiting import NotYet, TimedOut, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_returns_the_first_truthy_answer_and_reports_each_miss() -> None:
    clock, answers, seen = Clock(), iter([None, 0, NotYet("starting"), 42]), []

    def probe():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    result = wait_for(probe, "the answer", 10, interval_s=1, clock=clock, sleep=clock.sleep,
                      on_wait=lambda waited, last: seen.append((waited, str(last))))  # fmt: skip
    assert result == 42
    assert seen == [(0.0, "no answer yet"), (1.0, "0"), (2.0, "starting")]


def test_times_out_naming_what_and_the_last_sight() -> None:
    clock = Clock()

    def probe():
        raise NotYet(f"still booting at {clock.now:.0f}s")

    with pytest.raises(TimedOut) as caught:
        wait_for(probe, "the broker", 3, interval_s=1, clock=clock, sleep=clock.sleep)
    assert str(caught.value) == (
        "timed out after 3s waiting for the broker (last: still booting at 3s)"
    )
    assert clock.now == 3.0  # the last sleep stops at the deadline


def test_other_errors_end_the_wait_at_once() -> None:
    clock = Clock()

    def probe():
        raise PermissionError("wrong password")

    with pytest.raises(PermissionError):
        wait_for(probe, "the login", 30, clock=clock, sleep=clock.sleep)
    assert clock.now == 0.0


def test_accept_decides_what_counts_as_an_answer() -> None:
    clock = Clock()
    assert wait_for(lambda: None, "a probe that only returns", 5, accept=lambda _: True,
                    clock=clock, sleep=clock.sleep) is None  # fmt: skip
