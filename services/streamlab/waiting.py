"""The one wait loop: poll a probe until it gives an answer, or time out naming what was
awaited and what was seen last. The provisioner and every test harness wait with it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class NotYet(Exception):
    """Raised by a probe that has no answer yet; its message says what it saw."""


class TimedOut(AssertionError):
    """The wait's deadline passed; the message names what was awaited and the last sight.

    An AssertionError, so a test that times out fails rather than errors."""

    def __init__(self, what: str, timeout_s: float, last: object) -> None:
        super().__init__(f"timed out after {timeout_s:.0f}s waiting for {what} (last: {last})")
        self.what, self.timeout_s, self.last = what, timeout_s, last


def wait_for(
    probe: Callable[[], T | None],
    what: str,
    timeout_s: float,
    *,
    interval_s: float = 0.5,
    retry: tuple[type[BaseException], ...] = (NotYet,),
    accept: Callable[[T | None], bool] = bool,
    on_wait: Callable[[float, object], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """probe() until accept(its answer) (by default: the answer is truthy); returns it.

    An answer not accepted, or an exception of `retry` (kept as the last sight), means not
    yet; any other exception ends the wait at once. on_wait(waited_s, last) is called after
    each miss (progress lines).
    """
    start = clock()
    last: object = "no answer yet"
    while True:
        try:
            answer = probe()
        except retry as error:
            answer, last = None, error
        else:
            if accept(answer):
                return answer
            last = answer if answer is not None else last
        waited = clock() - start
        if on_wait is not None:
            on_wait(waited, last)
        if waited >= timeout_s:
            raise TimedOut(what, timeout_s, last)
        sleep(min(interval_s, max(timeout_s - waited, 0.0)))
