"""Wait for a service to answer before its step, with progress lines and a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests

from streamlab.waiting import NotYet, TimedOut
from streamlab.waiting import wait_for as poll

from .report import ProvisionError, Report

T = TypeVar("T")

PROGRESS_EVERY_S = 5.0
POLL_INTERVAL_S = 1.0


def http_reason(error: requests.RequestException) -> str:
    """A short reason for a failed HTTP request, without urllib3's whole chain."""
    if isinstance(error, requests.ConnectTimeout | requests.ReadTimeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "cannot connect (connection refused or host unknown)"
    return type(error).__name__


class NotReady(NotYet):
    """The service did not answer yet; the message says what was seen."""


def wait_for(
    service: str,
    what: str,
    probe: Callable[[], T],
    *,
    timeout_s: float,
    fix: str,
    report: Report,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """probe() until it returns instead of raising NotReady, or fail after timeout_s.

    A probe raises NotReady while the service is starting; any other ProvisionError it
    raises (a wrong password, say) ends the wait at once. A progress line every
    PROGRESS_EVERY_S says how long it has waited and what it saw.
    """
    next_note = [0.0]

    def progress(waited: float, reason: object) -> None:
        if waited >= next_note[0]:
            report.note(
                service, f"waiting for {what} ({waited:.0f}s of {timeout_s:.0f}s: {reason})"
            )
            next_note[0] = waited + PROGRESS_EVERY_S

    try:
        return poll(
            probe, what, timeout_s, interval_s=POLL_INTERVAL_S, accept=lambda _: True,
            on_wait=progress, clock=clock, sleep=sleep,
        )  # fmt: skip
    except TimedOut as error:
        raise ProvisionError(
            service, what, f"no answer after {timeout_s:.0f}s (last: {error.last})", fix
        ) from None
