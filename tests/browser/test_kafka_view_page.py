"""The control page's Kafka view in headless Chromium, on a real streamer and the real Kafka:
the datasets' topics and offsets, a Spark query's lag, a topic's last records and, once a
bad row has been sent through the page's own Resume button, its dead letter's reason."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from playwright.sync_api import sync_playwright

from harness.browser import BrowserMissing, launch, open_page
from harness.streamer import StreamerServer, create_topics, csv_spec, streamer_config
from streamlab.kafka_admin import query_group
from streamlab.waiting import wait_for

pytestmark = pytest.mark.browser

ROWS = [
    {"date": f"2010-01-01 {h:02d}:00", "station": "seattle", "temp_f": f"{40 + h}"}
    for h in range(12)
]
BAD_ROW = {"date": "2010-01-01 06:30", "station": "seattle", "temp_f": "warm"}
REASON = "field 'temp_f'='warm'"


@pytest.fixture(scope="module")
def streamer(
    kafka, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[StreamerServer, Any]]:
    """A CSV stream holding one bad row, paused until the page resumes it."""
    rows = [*ROWS[:6], BAD_ROW, *ROWS[6:]]
    spec = csv_spec(tmp_path_factory.mktemp("rows"), rows, rate=20)
    create_topics(kafka, spec)
    config = streamer_config(kafka.bootstrap, autostart="none")
    with StreamerServer(config, {spec.name: spec}) as server:
        yield server, spec


@pytest.fixture(scope="module")
def methods() -> list[tuple[str, str]]:
    return []


@pytest.fixture(scope="module")
def page(streamer, methods) -> Iterator[Any]:
    server, _ = streamer
    with sync_playwright() as playwright:
        try:
            browser = launch(playwright)
        except BrowserMissing as error:
            pytest.fail(str(error), pytrace=False)

        def watch(opened: Any) -> None:
            opened.on("request", lambda request: methods.append((request.method, request.url)))

        try:
            yield open_page(browser, server.url + "/", watch=watch)
        finally:
            browser.close()


def _until(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    wait_for(check, f"the page to show {what}", timeout, interval_s=0.2)


def _table(page: Any, name: str | re.Pattern) -> Any:
    return page.get_by_role("region", name="Kafka").get_by_role("table", name=name)


def _row(table: Any, text: str) -> Any:
    return table.get_by_role("row").filter(has_text=text)


def test_the_topics_with_partitions_and_end_offsets(page, streamer) -> None:
    _, spec = streamer
    topics = _table(page, "Topics")
    for topic, kind in spec.topics:
        _until(f"the topic {topic}", lambda t=topic: _row(topics, t).count() == 1)
        cells = _row(topics, topic).get_by_role("cell").all_inner_texts()
        assert cells[:3] == [topic, kind, str(spec.partitions)]
        assert cells[3].count(":") == spec.partitions and cells[4] == "0"


def test_a_bad_row_sent_from_the_page_shows_its_reason(page, streamer, kafka) -> None:
    server, spec = streamer
    card = page.locator(f'section[data-stream="{spec.name}"]')
    card.get_by_role("button", name=f"Resume {spec.name}").click()
    server.wait_for(spec.name, lambda s: s["state"] == "finished" and s["rows_unacked"] == 0)
    letters = _table(page, "Dead letters")
    _until("the dead letter's reason", lambda: _row(letters, REASON).count() == 1)
    cells = _row(letters, REASON).get_by_role("cell").all_inner_texts()
    assert cells[1:3] == [spec.name, "streamer"]
    assert REASON in cells[3] and '"temp_f": "warm"' in cells[4]
    topics = _table(page, "Topics")
    _until(
        "the raw topic's end offsets",
        lambda: (
            _row(topics, spec.raw_topic).get_by_role("cell").nth(4).inner_text() == str(len(ROWS))
        ),
    )


def test_the_last_records_of_a_chosen_topic(page, streamer) -> None:
    _, spec = streamer
    page.get_by_label("Last records of").select_option(spec.raw_topic)
    records = _table(page, f"Last records of {spec.raw_topic}")
    _until("the last records", lambda: records.get_by_role("row").count() == len(ROWS) + 1)
    newest = records.get_by_role("row").nth(1).get_by_role("cell").all_inner_texts()
    assert newest[3] == "seattle" and '"station":"seattle"' in newest[4]
    page.get_by_label("Last records of").select_option(spec.deadletter_topic)
    letters = _table(page, f"Last records of {spec.deadletter_topic}")
    _until("the dead-letter topic's record", lambda: _row(letters, "warm").count() == 1)


def test_each_spark_querys_lag(page, streamer, kafka) -> None:
    """What the Spark job commits after a micro-batch, the page shows as the query's lag."""
    _, spec = streamer
    lag = _table(page, "Spark queries' lag")
    sinks = f"{spec.name}.sinks"
    _until("the queries", lambda: _row(lag, sinks).count() == 1)
    assert _row(lag, sinks).get_by_role("cell").nth(1).inner_text() == "not started"
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=query_group(sinks))
    ends = consumer.end_offsets([TopicPartition(spec.raw_topic, p) for p in range(spec.partitions)])
    consumer.commit({tp: OffsetAndMetadata(max(end - 5, 0), "", -1) for tp, end in ends.items()})
    consumer.close()
    expected = str(sum(end - max(end - 5, 0) for end in ends.values()))
    shown = _row(lag, sinks).get_by_role("cell").nth(3)
    _until("the sinks query's lag", lambda: shown.get_attribute("data-value") == expected)


def test_the_view_only_reads(page, streamer, methods) -> None:
    server, _ = streamer
    kafka = [(m, url) for m, url in methods if url.startswith(f"{server.url}/kafka/")]
    assert kafka and all(method == "GET" for method, _ in kafka)
    paths = {url.removeprefix(server.url).split("?")[0] for _, url in kafka}
    assert {"/kafka/topics", "/kafka/deadletters"} <= paths


def test_a_screenshot_of_the_kafka_view_is_kept(page, tmp_path_factory) -> None:
    named = os.environ.get("STREAMLAB_SCREENSHOT_DIR")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.get_by_role("heading", name="Kafka").scroll_into_view_if_needed()
    shot = folder / "control-page-kafka.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"Kafka view screenshot: {shot}")
    assert shot.stat().st_size > 10_000
