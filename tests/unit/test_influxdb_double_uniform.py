"""The double's uniform write path stores exactly what the line-by-line path stores.

A body whose every line has the first line's shape is read column by column (uniform.py)
and kept as columns until read (points.py). These tests compare both paths: the points read,
each write's outcome (partial writes, type conflicts, retention) and what listeners see.
"""

from __future__ import annotations

import random
import secrets
import string
import urllib.request

import pytest

from doubles.influxdb import InfluxDBDouble, api_write
from doubles.influxdb.lineprotocol import parse
from doubles.influxdb.points import PointStore
from doubles.influxdb.uniform import read_uniform

NOW_NS = 1_700_000_000_123_456_789
KINDS = ["float", "integer", "unsigned", "boolean", "string"]
BOOLEANS = ["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"]
PLAIN = string.ascii_letters + string.digits + "._-:/üé"


def plain(rng: random.Random, size: int = 6) -> str:
    return "".join(rng.choices(PLAIN, k=rng.randint(1, size)))


def value(rng: random.Random, kind: str) -> str:
    if kind == "float":
        return rng.choice([
            "1", "-2", "0.5", "-.25", "1.", "1e3", "-1.5E-3", "3.141592653589793",
            repr(rng.uniform(-1e6, 1e6)), "1.7976931348623157e308", "4.9e-324",
        ])  # fmt: skip
    if kind == "integer":
        return rng.choice(["0", "-1", "42", "9223372036854775807", "-9223372036854775808"]) + "i"
    if kind == "unsigned":
        return rng.choice(["0", "7", "18446744073709551615"]) + "u"
    if kind == "boolean":
        return rng.choice(BOOLEANS)
    return '"' + rng.choice(["", "ok", "a b,c=d", "say hi", "🚀 launch", "x=1,y=2"]) + '"'


def uniform_body(rng: random.Random, lines: int, latest: int = NOW_NS) -> str:
    """Lines of one shape: measurement, tag keys, field keys and kinds fixed, values free."""
    measurement = plain(rng)
    tag_keys = rng.sample(["host", "region", "a", "zone", "t1"], rng.randint(0, 3))
    fields = dict(zip(rng.sample(["f", "g", "temp", "ok", "n"], rng.randint(1, 4)),
                      rng.choices(KINDS, k=4), strict=False))  # fmt: skip
    out = []
    for _ in range(lines):
        tags = "".join(f",{key}={plain(rng, 3)}" for key in tag_keys)
        values = ",".join(f"{key}={value(rng, kind)}" for key, kind in fields.items())
        stamp = rng.choice(["0", "-5", str(rng.randint(1, latest)), str(latest)])
        out.append(f"{measurement}{tags} {values} {stamp}")
    return "\n".join(out)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("precision", ["ns", "us", "s"])
def test_uniform_bodies_read_as_the_full_parser_reads_them(seed: int, precision: str) -> None:
    rng = random.Random(seed)
    latest = NOW_NS // {"ns": 1, "us": 1000, "s": 10**9}[precision]
    body = uniform_body(rng, rng.choice([2, 3, 30]), latest)
    for text in (body, body + "\n", body + "\n\n"):
        columns = read_uniform(text, precision)
        assert columns is not None, text
        expected = parse(text, precision, NOW_NS, fast=False)
        assert not expected.errors
        assert columns.points() == expected.points
        assert list(columns.keys()) == [(p.measurement, p.tags, p.time_ns) for p in expected.points]


BODY = 'm,b=x,a=y f=1.5,s="ok",i=3i 1\nm,b=z,a=w f=2,s="no",i=-4i 2'
NOT_UNIFORM = {
    "another field order": 'm,b=x,a=y s="ok",f=1.5,i=3i 3',
    "another tag order": 'm,a=y,b=x f=1.5,s="ok",i=3i 3',
    "a missing field": 'm,b=x,a=y f=1.5,s="ok" 3',
    "another type": 'm,b=x,a=y f=1.5,s="ok",i=3 3',
    "another measurement": 'n,b=x,a=y f=1.5,s="ok",i=3i 3',
    "no timestamp": 'm,b=x,a=y f=1.5,s="ok",i=3i',
    "a comment": "# a comment",
    "a blank line": "",
    "leading whitespace": ' m,b=x,a=y f=1.5,s="ok",i=3i 3',
    "an escape": 'm,b=x\\ y,a=y f=1.5,s="ok",i=3i 3',
    "a quote in a string": 'm,b=x,a=y f=1.5,s="o\\"k",i=3i 3',
    "an infinite float": 'm,b=x,a=y f=1e999,s="ok",i=3i 3',
    "NaN": 'm,b=x,a=y f=NaN,s="ok",i=3i 3',
    "an integer out of range": 'm,b=x,a=y f=1,s="ok",i=9223372036854775808i 3',
    "a timestamp out of range": 'm,b=x,a=y f=1,s="ok",i=3i 9223372036854775808',
    "a carriage return": 'm,b=x,a=y f=1,s="ok",i=3i 3\r',
    "a repeated tag": 'm,b=x,b=y f=1,s="ok",i=3i 3',
}


@pytest.mark.parametrize("line", NOT_UNIFORM.values(), ids=NOT_UNIFORM.keys())
def test_any_other_line_leaves_the_body_to_the_full_parser(line: str) -> None:
    assert read_uniform(BODY, "ns") is not None
    assert read_uniform(f"{BODY}\n{line}\n{BODY}", "ns") is None
    assert read_uniform(f"{line}\n{BODY}", "ns") is None


@pytest.mark.parametrize(
    "body, precision",
    [
        ("m f=1,g=2i 1\nm f=1,g=2i,g=3i 2", "ns"),  # a repeated field key
        ("m f=1 1\nm f=1 9223372036854775", "s"),  # in range until scaled to ns
        ("m f=18446744073709551616u 1", "ns"),
        ("m f=-1u 1", "ns"),
        ("", "ns"),
        ("\n", "ns"),
    ],
)
def test_bodies_out_of_the_uniform_paths_reach(body: str, precision: str) -> None:
    assert read_uniform(body, precision) is None


def writes(seed: int) -> list[str]:
    """Bodies over a few shared series and times: mostly uniform, with a field whose type
    changes between bodies (type conflicts), some rows of another shape or refused."""
    rng = random.Random(seed)
    kinds = {"integer": lambda: f"{rng.randint(0, 9)}i", "boolean": lambda: rng.choice("tf"),
             "float": lambda: str(rng.randint(0, 9))}  # fmt: skip
    bodies = []
    for _ in range(30):
        name, kind = rng.choice("gh"), kinds[rng.choice(list(kinds))]
        rows = [
            f"m,host=h{rng.randint(1, 3)} f={rng.choice(['1', '2.5', '-3'])},{name}={kind()} "
            f"{rng.randint(1, 6)}"
            for _ in range(rng.randint(2, 8))
        ]
        if rng.random() < 0.3:
            rows.append(rng.choice(["_m f=1 1", "m time=1,f=2 2", "m,host=h1 f=1 -99", "n f=1 3"]))
        elif rng.random() < 0.2:
            reserved = rng.choice(["_m,", "m,_t=1,"])
            rows = [row.replace("m,", reserved) for row in rows]
        bodies.append("\n".join(rows))
    return bodies


@pytest.mark.parametrize("seed", range(12))
def test_stored_points_and_outcomes_do_not_depend_on_the_path(seed: int) -> None:
    """A store taking uniform writes as columns ends as one taking every write point by
    point: values merged in order, type conflicts, reserved names and retention alike."""
    by_columns, by_points = PointStore(), PointStore()
    cutoff = 3 if seed % 2 else None  # odd seeds: times 1 and 2 beyond retention
    uniform = 0
    for body in writes(seed):
        expected = by_points.write("b", parse(body, "ns", NOW_NS).points, cutoff)
        columns = read_uniform(body, "ns")
        if columns is None:
            outcome = by_columns.write("b", parse(body, "ns", NOW_NS).points, cutoff)
        else:
            uniform += 1
            outcome = by_columns.write_columns("b", columns, cutoff)
        assert outcome == expected, body
        if seed % 3 == 0:
            assert by_columns.points("b") == by_points.points("b")
    assert uniform >= 10
    assert by_columns.points("b") == by_points.points("b")
    assert by_columns.points("b")


REFUSED = {
    "type conflict": ("m f=1i 1\nm f=1i 2", "m f=2 2\nm f=3 3"),
    "reserved measurement": ("m f=1 1\nm f=1 2", "_m f=2 2\n_m f=3 3"),
    "reserved tag": ("m f=1 1\nm f=1 2", "m,_t=a f=2 2\nm,_t=b f=3 3"),
    "time tag": ("m f=1 1\nm f=1 2", "m,time=a f=2 2\nm,time=b f=2 3"),
    "time field": ("m f=1 1\nm f=1 2", "m f=2,time=1 2\nm f=3,time=2 3"),
    "only a time field": ("m f=1 1\nm f=1 2", "m time=1 2\nm time=1 3"),
    "beyond retention": ("m f=1 10\nm f=1 20", "m f=2 2\nm f=3 30"),
}


@pytest.mark.parametrize("first, second", REFUSED.values(), ids=REFUSED.keys())
def test_a_uniform_write_refused_in_part_answers_as_point_by_point(first, second) -> None:
    by_columns, by_points = PointStore(), PointStore()
    for body in (first, second):
        columns = read_uniform(body, "ns")
        assert columns is not None
        outcome = by_columns.write_columns("b", columns, 5)
        assert outcome == by_points.write("b", parse(body, "ns", NOW_NS).points, 5)
    assert outcome.reason
    assert by_columns.points("b") == by_points.points("b")


def test_dropping_a_bucket_drops_its_pending_writes() -> None:
    store, body = PointStore(), "m f=1 1\nm f=2 2"
    store.write_columns("b", read_uniform(body, "ns"), None)
    store.drop_bucket("b")
    assert store.points("b") == []
    store.write_columns("b", read_uniform(body, "ns"), None)
    store.clear()
    assert store.points("b") == []
    text = read_uniform('m f="text" 1\nm f="more" 2', "ns")
    assert store.write_columns("b", text, None).reason is None


def test_a_single_line_is_left_to_the_fast_path() -> None:
    """Columns save nothing on one line (the per-row pattern's requests)."""
    assert read_uniform("m f=1 1", "ns") is None
    assert read_uniform("m f=1 1\n", "ns") is None
    assert read_uniform("m f=1 1\nm f=2 2", "ns") is not None


def test_a_uniform_write_through_http_takes_the_uniform_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without this, the agreement above could hold with the uniform path never used."""

    def refuse(*args: object) -> None:
        raise AssertionError("read line by line")

    monkeypatch.setattr(api_write, "parse", refuse)
    seen = []
    body = "\n".join(f"cpu,host=h{i % 3} usage={i / 7},up=t {i}" for i in range(1000))
    with InfluxDBDouble() as influx:
        token = secrets.token_hex(8)
        influx.setup("admin", "password123", "org", "bucket", token=token)
        influx.store.write_listeners.append(lambda bucket, keys, ns: seen.extend(keys))
        request = urllib.request.Request(
            f"{influx.url}/api/v2/write?org=org&bucket=bucket&precision=ms",
            body.encode(),
            method="POST",
        )
        request.add_header("Authorization", f"Token {token}")
        with urllib.request.urlopen(request) as response:
            assert response.status == 204
        stored = influx.points("bucket", "cpu")
    assert len(stored) == 1000
    assert stored[0] == {
        "measurement": "cpu", "tags": {"host": "h0"}, "fields": {"up": True, "usage": 0.0},
        "field_types": {"up": "boolean", "usage": "float"}, "time_ns": 0,
    }  # fmt: skip
    assert sorted(seen) == sorted(
        ("cpu", (("host", p["tags"]["host"]),), p["time_ns"]) for p in stored
    )
    assert {p["time_ns"] for p in stored} == {i * 1_000_000 for i in range(1000)}
