"""The sources a configuration asks for: those with an address set."""

from __future__ import annotations

from collections.abc import Mapping

from streamlab.specs import DatasetSpec

from ..collector import Source
from ..config import MetricsConfig
from . import hdfs, spark_master, streamer, yarn
from .http import HttpJsonSource
from .kafka import KafkaSource


def build_sources(config: MetricsConfig, specs: Mapping[str, DatasetSpec]) -> list[Source]:
    timeout = config.timeout_s
    sources: list[Source] = []
    if config.streamer_url:
        url = config.streamer_url + streamer.PATH
        sources.append(HttpJsonSource("streamer", url, streamer.stream_points, timeout))
    if config.kafka_bootstrap:
        sources.append(KafkaSource(config.kafka_bootstrap, specs, timeout))
    if config.yarn_rm_url:
        url = config.yarn_rm_url + yarn.PATH
        sources.append(HttpJsonSource("yarn", url, yarn.cluster_points, timeout))
    if config.webhdfs_url:
        url = config.webhdfs_url + hdfs.PATH
        sources.append(HttpJsonSource("hdfs", url, hdfs.namenode_points, timeout))
    if config.spark_master_ui_url:
        url = config.spark_master_ui_url + spark_master.PATH
        sources.append(HttpJsonSource("spark_master", url, spark_master.master_points, timeout))
    return sources
