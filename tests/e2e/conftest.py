"""The e2e tier runs against a stack that tests/e2e/run.sh has brought up with build_setup.sh."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Stack


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack() -> Stack:
    if not os.environ.get("STREAMLAB_E2E"):
        pytest.fail("the e2e tier runs through tests/e2e/run.sh, which brings the stack up")
    return Stack.current()


@pytest.fixture(scope="session")
def default_dataset(stack: Stack) -> str:
    return stack.settings.optional("E2E_DATASET") or "temps"
