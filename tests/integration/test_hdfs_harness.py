"""The harness runs a real HDFS: what `hdfs dfs` writes is listed and read back exactly."""

from __future__ import annotations

import json
import os

import pytest

from harness.hdfs import HdfsCluster, HdfsError, http_get

pytestmark = pytest.mark.integration

# Every byte value, and more than one 64 KiB client packet, so nothing is text-mangled
# or cut at a packet boundary.
PAYLOAD = bytes(range(256)) + os.urandom(300_000)


@pytest.fixture
def folder(hdfs: HdfsCluster, request: pytest.FixtureRequest) -> str:
    """A new, empty folder of this test's own on the shared cluster."""
    path = f"/tests/{request.node.name}"
    hdfs.mkdir(path)
    return path


def test_put_list_and_read_back_exactly(hdfs: HdfsCluster, folder: str) -> None:
    hdfs.mkdir(f"{folder}/a/b")
    hdfs.put_bytes(f"{folder}/a/b/data.bin", PAYLOAD)

    assert hdfs.ls(folder) == [f"{folder}/a"]
    assert hdfs.ls(f"{hdfs.uri}{folder}/a/b") == [f"{hdfs.uri}{folder}/a/b/data.bin"]
    assert hdfs.read_bytes(f"{folder}/a/b/data.bin") == PAYLOAD


def test_put_replaces_a_file(hdfs: HdfsCluster, folder: str) -> None:
    hdfs.put_bytes(f"{folder}/f", b"first")
    hdfs.put_bytes(f"{folder}/f", b"second")
    assert hdfs.read_bytes(f"{folder}/f") == b"second"


def test_reading_a_missing_file_raises_with_the_shell_error(hdfs: HdfsCluster, folder: str) -> None:
    with pytest.raises(HdfsError, match="No such file or directory"):
        hdfs.read_bytes(f"{folder}/missing")


def test_webhdfs_lists_and_reads_what_the_shell_wrote(hdfs: HdfsCluster, folder: str) -> None:
    hdfs.put_bytes(f"{folder}/data.bin", PAYLOAD)

    listing = json.loads(http_get(f"{hdfs.webhdfs_url}{folder}?op=LISTSTATUS"))
    statuses = listing["FileStatuses"]["FileStatus"]
    assert [(s["pathSuffix"], s["type"], s["length"]) for s in statuses] == [
        ("data.bin", "FILE", len(PAYLOAD))
    ]
    # OPEN redirects to the DataNode's own HTTP port: its advertised address must work.
    assert http_get(f"{hdfs.webhdfs_url}{folder}/data.bin?op=OPEN") == PAYLOAD


def test_the_datanode_is_live_on_its_configured_loopback_port(hdfs: HdfsCluster) -> None:
    state = hdfs.namenode_state()
    assert state["FSState"] == "Operational"
    assert (state["NumLiveDataNodes"], state["NumDeadDataNodes"]) == (1, 0)

    query = "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"
    info = json.loads(http_get(hdfs.namenode_http_url + query))
    live = json.loads(info["beans"][0]["LiveNodes"])
    assert [node["xferaddr"] for node in live.values()] == [f"127.0.0.1:{hdfs.ports.datanode}"]
    assert hdfs.datanode.running and hdfs.namenode.running
