"""The shared sinks query's names: which topics it reads, and whose offsets and progress a
raw topic's rows count as."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from sparkjob.progress import _by_query
from sparkjob.routing import SHARED_SINKS, dataset_sinks_query, topic_pattern
from sparkjob.series import routed_point
from streamlab.spec_reader import NAME_PATTERN
from streamlab.specs import load_spec

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def _specs(*names: str):
    temps = load_spec(DATASETS / "temps.yaml", {})
    return [dataclasses.replace(temps, name=name) for name in names]


def test_the_pattern_matches_the_datasets_raw_topics_and_nothing_else() -> None:
    pattern = re.compile(topic_pattern(_specs("temps", "cars")))
    assert pattern.search("temps.raw") and pattern.search("cars.raw")
    for other in ("temps.deadletter", "temps.alerts", "cars.enriched", "cars.alert_counts",
                  "weather.raw", "xtemps.raw", "temps.rawx", "temps_raw"):  # fmt: skip
        assert not pattern.search(other), other


def test_a_raw_topic_counts_as_its_datasets_sinks_query() -> None:
    assert dataset_sinks_query("temps.raw") == "temps.sinks"
    # The shared query's own name can be no dataset's: its progress never poses as one.
    assert not NAME_PATTERN.match(SHARED_SINKS.partition(".")[0])


def test_the_shared_querys_offsets_are_committed_per_dataset() -> None:
    at = lambda n: OffsetAndMetadata(n, "", -1)  # noqa: E731
    offsets = {
        TopicPartition("temps.raw", 0): at(5),
        TopicPartition("temps.raw", 1): at(7),
        TopicPartition("cars.raw", 0): at(3),
    }
    assert _by_query(SHARED_SINKS, offsets) == {
        "temps.sinks": {
            TopicPartition("temps.raw", 0): at(5),
            TopicPartition("temps.raw", 1): at(7),
        },
        "cars.sinks": {TopicPartition("cars.raw", 0): at(3)},
    }
    assert _by_query("temps.raw_layer", offsets) == {"temps.raw_layer": offsets}


def test_a_datasets_share_of_a_batch_is_progress_under_its_own_query() -> None:
    point = routed_point("temps.sinks", 4, 300, 0.5, 2.0).to_line_protocol()
    assert point.startswith("spark_query,dataset=temps,kind=sinks,query=temps.sinks ")
    assert "num_input_rows=300i" in point and "input_rows_per_s=150" in point
    assert "processed_rows_per_s=600" in point and "batch_duration_ms=500i" in point
