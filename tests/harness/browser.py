"""Debian's chromium driven by Playwright, and what the control page's tests read from it.

Playwright's own browser download does not work on StreamLab's test machines, so this always
launches the system's chromium (tests/run.sh installs Debian's package), headless, with a
fresh temporary profile.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlab.waiting import NotYet, wait_for

CHROMIUM = os.environ.get("STREAMLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        raise BrowserMissing(
            f"no chromium at {CHROMIUM}: install Debian's package (apt-get install chromium; "
            "./tests/run.sh does it as root) or set STREAMLAB_CHROMIUM"
        )
    return CHROMIUM


def launch(playwright: Any) -> Any:
    """A headless chromium Browser; each of its contexts starts from a fresh profile."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def open_page(browser: Any, url: str, watch: Callable[[Any], None] | None = None) -> Any:
    """A page at url, 1280x800; watch(page) runs first, to listen from the first request."""
    page = browser.new_page(viewport=VIEWPORT)
    if watch is not None:
        watch(page)
    page.goto(url, wait_until="load")
    return page


# The number of canvas pixels that are not blank, and of those near each series' colour.
INK_JS = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const style = getComputedStyle(document.documentElement);
  const rgb = name => {
    const probe = document.createElement("canvas").getContext("2d");
    probe.fillStyle = style.getPropertyValue(name).trim();
    const hex = probe.fillStyle;  // normalised to #rrggbb
    return [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
  };
  const colours = {achieved: rgb("--achieved"), asked: rgb("--asked")};
  const counts = {ink: 0, achieved: 0, asked: 0};
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    counts.ink += 1;
    for (const [key, [r, g, b]] of Object.entries(colours)) {
      if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60) {
        counts[key] += 1;
      }
    }
  }
  return counts;
}"""


def canvas_ink(page: Any, selector: str) -> dict[str, int]:
    return page.locator(selector).evaluate(INK_JS)


def wait_for_chart_data(page: Any, samples: int, timeout_s: float) -> int:
    """Waits until every stream's chart holds at least `samples` samples; returns the count."""

    def charts() -> int:
        counts = page.eval_on_selector_all(
            "canvas.chart-canvas", "all => all.map(c => Number(c.dataset.samples || 0))"
        )
        if counts and min(counts) >= samples:
            return len(counts)
        raise NotYet(f"samples per chart: {counts}")

    return wait_for(charts, f"{samples} samples in every chart", timeout_s, interval_s=0.25)
