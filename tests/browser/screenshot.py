"""Screenshot of a running streamer's control page, in Debian's headless chromium.

    python tests/browser/screenshot.py http://127.0.0.1:8000/ control-page.png
    python tests/browser/screenshot.py URL OUT.png --rate sensors 200 --samples 20

Opens the page, optionally sets a stream's rate through the page's own form, waits until
every stream's chart has data, and saves a screenshot (1280x800). The e2e run keeps one in
its artifacts; docs/images/control-page.png was taken with it (--samples 80) from the test
harness's streamer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for harness

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from harness.browser import BrowserMissing, launch, open_page, wait_for_chart_data
from streamlab.waiting import TimedOut


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Screenshot of a streamer's control page.")
    parser.add_argument("url", help="the control page, e.g. http://127.0.0.1:8000/")
    parser.add_argument("out", type=Path, help="where to write the PNG")
    parser.add_argument(
        "--rate", nargs=2, metavar=("STREAM", "ROWS_PER_S"), help="set a stream's rate first"
    )
    parser.add_argument(
        "--samples", type=int, default=5, help="chart samples (one a second) to wait for"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for data")
    return parser.parse_args(argv)


def set_rate(page: Any, stream: str, rate: str) -> None:
    """Through the page's form, as a user would; the API's refusal is an error here."""
    page.get_by_label(f"Rate unit of {stream}").select_option("rows_per_second")
    page.get_by_label(f"Rate of {stream}", exact=True).fill(rate)
    page.get_by_role("button", name=f"Set rate of {stream}").click()
    card = page.locator(f'section[data-stream="{stream}"]')
    card.locator('[data-field="asked"]').filter(has_text=" rows/s").wait_for()
    page.wait_for_timeout(500)
    refused = card.locator(".control-error").inner_text().strip()
    if refused:
        raise RuntimeError(f"the streamer refused the rate: {refused}")


def take(args: argparse.Namespace) -> int:
    """Saves the screenshot; returns how many streams the page shows."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = open_page(browser, args.url)
            if args.rate:
                set_rate(page, *args.rate)
            streams = wait_for_chart_data(page, args.samples, args.timeout)
            page.screenshot(path=str(args.out))
            return streams
        finally:
            browser.close()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        streams = take(args)
    except (BrowserMissing, TimedOut, RuntimeError, PlaywrightError) as error:
        print(f"screenshot: {error}", file=sys.stderr)
        return 1
    print(f"screenshot: {args.out} ({streams} streams)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
