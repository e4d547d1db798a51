"""The streamer's control page in headless Chromium: a real streamer on the real Kafka,
driven only through the page, as a user would."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from harness.browser import BrowserMissing, canvas_ink, launch, open_page, wait_for_chart_data
from harness.streamer import StreamerServer, create_topics, streamer_config, unique_spec
from streamlab.specs import DatasetSpec, RateSpec
from streamlab.waiting import wait_for

pytestmark = pytest.mark.browser

# Every shipped dataset. The ones that run are the stack's defaults; bikes stays paused (it
# would poll the internet), and the rate test uses the synthetic sensors.
RUNNING = {"sensors": 50, "temps": 20, "weather": 5}
PAUSED = ("bikes",)
TOLERANCE = 0.1  # achieved vs asked rows/s, as the page shows them


def _spec(kafka: Any, name: str) -> DatasetSpec:
    """A shipped spec under a unique name (the broker is shared), with its topics."""
    spec = unique_spec(
        name, rate=RateSpec("rows_per_second", RUNNING.get(name, 10)), autostart=name in RUNNING
    )
    create_topics(kafka, spec)
    return spec


@pytest.fixture(scope="module")
def streamer(kafka) -> Iterator[tuple[StreamerServer, dict[str, str]]]:
    specs = {name: _spec(kafka, name) for name in (*RUNNING, *PAUSED)}
    config = streamer_config(kafka.bootstrap)
    with StreamerServer(config, {s.name: s for s in specs.values()}) as server:
        yield server, {base: spec.name for base, spec in specs.items()}


@dataclasses.dataclass
class Seen:
    """What the page did besides what it shows: every URL it asked for, its uncaught errors."""

    requests: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))


@pytest.fixture(scope="module")
def seen() -> Seen:
    return Seen()


@pytest.fixture(scope="module")
def page(streamer, seen: Seen) -> Iterator[Any]:
    server, _ = streamer
    with sync_playwright() as playwright:
        try:
            browser = launch(playwright)
        except BrowserMissing as error:
            pytest.fail(str(error), pytrace=False)
        try:
            yield open_page(browser, server.url + "/", watch=seen.watch)
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("STREAMLAB_SCREENSHOT_DIR")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _card(page: Any, stream: str) -> Any:
    return page.locator(f'section[data-stream="{stream}"]')


def _value(page: Any, stream: str, field: str) -> str:
    return _card(page, stream).locator(f'[data-field="{field}"]').get_attribute("data-value") or ""


def _achieved(page: Any, stream: str) -> float:
    return float(_value(page, stream, "achieved") or "nan")


def _until(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    wait_for(check, f"the page to show {what}", timeout, interval_s=0.2)


def test_the_page_shows_every_stream(page, streamer) -> None:
    _, names = streamer
    sections = page.get_by_role("main", name="Streams").get_by_role("region")
    _until("a card per stream", lambda: sections.count() == len(names), timeout=10)
    for base, name in names.items():
        card = page.get_by_role("region", name=name)
        assert card.get_by_role("heading", name=name).is_visible()
        expected = "running" if base in RUNNING else "paused"
        _until(f"{name} {expected}", lambda n=name, e=expected: _value(page, n, "state") == e)
        assert page.get_by_label(f"Rate of {name}", exact=True).is_visible()
        for action in ("Pause", "Resume", "Restart"):
            assert card.get_by_role("button", name=f"{action} {name}").is_enabled()
    assert page.title() == "StreamLab streamer"


def test_the_achieved_rate_follows_a_rate_change(page, streamer) -> None:
    _, names = streamer
    name = names["sensors"]
    page.get_by_label(f"Rate of {name}", exact=True).fill("300")
    page.get_by_role("button", name=f"Set rate of {name}").click()
    _until("asked 300 rows/s", lambda: float(_value(page, name, "asked") or 0) == 300)
    assert _card(page, name).locator('[data-field="asked"]').inner_text() == "300 rows/s"
    _until(
        "the achieved rate near 300 rows/s",
        lambda: abs(_achieved(page, name) - 300) <= 300 * TOLERANCE,
    )
    assert _card(page, name).locator(".control-error").inner_text() == ""


def test_a_refused_rate_shows_the_api_error_next_to_the_control(page, streamer) -> None:
    _, names = streamer
    name = names["temps"]
    page.get_by_label(f"Rate of {name}", exact=True).fill("-5")
    page.get_by_role("button", name=f"Set rate of {name}").click()
    error = _card(page, name).locator(".control-error")
    _until("the API's error", lambda: "greater than 0" in error.inner_text(), timeout=5)
    assert "HTTP 400" in _card(page, name).get_by_role("alert").inner_text()
    assert float(_value(page, name, "asked")) == 20 and _value(page, name, "state") == "running"
    page.get_by_label(f"Rate of {name}", exact=True).fill("20")
    page.get_by_role("button", name=f"Set rate of {name}").click()
    _until("the error cleared", lambda: error.inner_text() == "", timeout=5)


def test_pause_and_resume(page, streamer) -> None:
    _, names = streamer
    name = names["weather"]
    card = _card(page, name)
    card.get_by_role("button", name=f"Pause {name}").click()
    _until("paused", lambda: _value(page, name, "state") == "paused", timeout=5)
    assert card.locator('[data-field="state"]').inner_text() == "paused"
    _until("the achieved rate at 0", lambda: _achieved(page, name) == 0)
    card.get_by_role("button", name=f"Resume {name}").click()
    _until("running again", lambda: _value(page, name, "state") == "running", timeout=5)
    _until("rows flowing again", lambda: _achieved(page, name) > 0)


def test_the_chart_draws_both_lines_and_a_screenshot_is_kept(
    page, streamer, screenshot_dir: Path
) -> None:
    _, names = streamer
    wait_for_chart_data(page, samples=10, timeout_s=15)
    page.evaluate("window.scrollTo(0, 0)")
    shot = screenshot_dir / "control-page.png"
    page.screenshot(path=str(shot))
    print(f"control page screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    for base, name in names.items():
        canvas = f'section[data-stream="{name}"] canvas'
        ink = canvas_ink(page, canvas)
        assert ink["ink"] > 1000, f"{name}: the chart is nearly blank: {ink}"
        if base in RUNNING:
            assert ink["achieved"] > 30 and ink["asked"] > 15, f"{name}: {ink}"


def test_the_page_loads_nothing_from_elsewhere_and_throws_nothing(page, streamer, seen) -> None:
    server, _ = streamer
    assert seen.requests and all(url.startswith(server.url + "/") for url in seen.requests)
    assert {url.removeprefix(server.url) for url in seen.requests} >= {
        "/",
        "/static/control.js",
        "/static/control.css",
        "/streams",
    }
    assert seen.errors == []
