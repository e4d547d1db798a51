"""One line per provisioned item, and the error type every step raises for expected failures.

Item lines read `<service>: <item>: <outcome>[ (<detail>)]`, outcome one of OUTCOMES, so a
second run can be checked line by line for "already present".
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

CREATED = "created"
UPDATED = "updated"
PRESENT = "already present"
OUTCOMES = (CREATED, UPDATED, PRESENT)


class ProvisionError(RuntimeError):
    """An expected failure: which service, which item, what went wrong and the likely fix."""

    def __init__(self, service: str, item: str, problem: str, fix: str) -> None:
        super().__init__(f"{service}: {item}: {problem}")
        self.service, self.item, self.problem, self.fix = service, item, problem, fix

    def render(self) -> str:
        return f"error: {self.service}: {self.item}: {self.problem}\n  fix: {self.fix}"


class Report:
    """Prints item outcomes and progress notes, and counts outcomes for the summary."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self.counts: Counter[str] = Counter()

    def item(self, service: str, item: str, outcome: str, detail: str = "") -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self.counts[outcome] += 1
        suffix = f" ({detail})" if detail else ""
        self._print(f"{service}: {item}: {outcome}{suffix}")

    def note(self, service: str, text: str) -> None:
        self._print(f"{service}: {text}")

    def summary(self) -> str:
        parts = ", ".join(f"{self.counts[o]} {o}" for o in OUTCOMES)
        return f"done: {parts}"

    def _print(self, line: str) -> None:
        print(line, file=self._out, flush=True)
