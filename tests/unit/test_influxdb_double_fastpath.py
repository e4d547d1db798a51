"""The double's line protocol fast path reads every line exactly as the full parser does.

parse() tries a fast reading for plain lines (no escapes, no quotes or separators inside
strings) and leaves everything else, and every error, to the full parser. These tests
compare the two on a corpus of edge cases and on generated lines.
"""

from __future__ import annotations

import json
import random
import secrets
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest

from doubles.influxdb import InfluxDBDouble, lineprotocol
from doubles.influxdb.lineprotocol import ParseResult, parse

NOW_NS = 1_700_000_000_123_456_789

EDGE_CASES = [
    'sensors,sensor=s1 temperature=21.5,humidity=55.0,status="ok" 1700000000000000001',
    "m f=1 1",
    "m f=1",
    "m f=1 ",
    "m  f=1 1",
    "m f=1  1",
    "m,t=a,t=b f=1 1",
    "m,b=2,a=1 f=1 1",
    "m f=1,f=2i 1",
    "m f=1,g=-2i,h=3u,i=t,j=FALSE,k=.5,l=1e5,n=-1.5E-3 1",
    "m f=1.5i 1",
    "m f=-1u 1",
    "m f=1e999 1",
    "m f=NaN 1",
    "m f=nan 1",
    "m f=tru 1",
    "m f=9223372036854775808i 1",
    "m f=18446744073709551616u 1",
    "m f=1 99999999999999999999",
    "m f=1 9223372036854775807",
    "m f=1 -9223372036854775806",
    "m f=1 -",
    "m f=1 1a",
    "m f=1 1 2",
    'm s="" 1',
    'm s="a b,c=d" 1',
    'm s="say \\"hi\\"" 1',
    'm s="back\\\\slash" 1',
    'm s="open 1',
    'm s="a"b 1',
    'm s="x",t="y" 1',
    'm,t="q" f=1 1',
    'm f="a\nb" 1',
    "m\\ x f=1 1",
    "m,t=a\\,b f=1 1",
    "m f\\=x=1 1",
    "m=x f=1 1",
    ",t=1 f=1 1",
    "m,=1 f=1 1",
    "m,t f=1 1",
    "m,t= f=1 1",
    "m,t=a=b f=1 1",
    "m =1 1",
    "m f= 1",
    "m f=,g=1 1",
    "m f 1",
    "m",
    "m,t=1",
    "m ",
    "m f=1\r",
    "m f=1 1\r",
    "m\tx f=1 1",
    "m f=1\t1",
    "m f=1\x00 1",
    "m\x00 f=1 1",
    "#m f=1 1",
    '# comment with "quotes" f="x" 1',
    'm,t=🍭 f="Launch 🚀" 1',
    "m,t=ü f=1 1",
    "m\u00a0x f=1 1",
    "_m f=1 1",
    "m time=1 1",
    "m f=1 1 ",
]


def results_agree(body: str) -> tuple[ParseResult, ParseResult]:
    return parse(body, "ns", NOW_NS), parse(body, "ns", NOW_NS, fast=False)


@pytest.mark.parametrize("line", EDGE_CASES)
@pytest.mark.parametrize("precision", ["ns", "s"])
def test_fast_and_full_parsers_agree_on_edge_cases(line: str, precision: str) -> None:
    body = f"  {line}\nm f=2 2\n\t{line}"
    fast = parse(body, precision, NOW_NS)
    assert fast == parse(body, precision, NOW_NS, fast=False)


def test_fast_and_full_parsers_agree_on_a_whole_body() -> None:
    fast, full = results_agree("\n".join(EDGE_CASES))
    assert fast == full
    assert fast.points and fast.errors


def generated_lines(seed: int, count: int) -> Iterator[str]:
    """Lines assembled from line-protocol pieces and the characters that matter."""
    rng = random.Random(seed)
    alphabet = ['a', 'b', ' ', ',', '=', '"', "\\", "\t", "\x00", "#", "1", "-", ".", "e",
                "i", "u", "t", "ü"]  # fmt: skip
    values = [
        "1",
        "-2i",
        "3u",
        "1.5",
        "t",
        "false",
        '"s"',
        '"a b"',
        '"x,y=z"',
        '""',
        "1e3",
        '"a\nb"',
    ]
    for _ in range(count):
        noise = lambda: "".join(rng.choices(alphabet, k=rng.choices([0, 1, 2], [12, 2, 1])[0]))  # noqa: E731
        tags = "".join(f",{rng.choice('kt')}{noise()}={rng.choice('ab')}{noise()}"
                       for _ in range(rng.randint(0, 2)))  # fmt: skip
        fields = ",".join(f"{rng.choice('fg')}{noise()}={rng.choice(values)}{noise()}"
                          for _ in range(rng.randint(1, 3)))  # fmt: skip
        stamp = rng.choice(["", " 1", " -5", " 17000", f" {noise()}1"])
        yield f"{rng.choice(['m', 'm', noise()])}{tags}{rng.choice([' ', ' ', noise()])}{fields}{stamp}"


@pytest.mark.parametrize("seed", range(4))
def test_fast_and_full_parsers_agree_on_generated_lines(seed: int) -> None:
    lines = list(generated_lines(seed, 3000))
    for line in lines[:500]:
        assert results_agree(line)[0] == results_agree(line)[1], repr(line)
    fast, full = results_agree("\n".join(lines))
    assert fast == full
    kinds = Counter(kind(line) for line in lines)
    assert min(kinds["fast"], kinds["full"], kinds["error"]) > 300, kinds


def kind(line: str) -> str:
    """Which reading a line gets: the fast path's, the full parser's, or an error."""
    try:
        lineprotocol.parse_line(line, "ns", NOW_NS)
    except lineprotocol.LineSyntaxError:
        return "error"
    return "fast" if lineprotocol._FAST_LINE.fullmatch(line) else "full"


@pytest.mark.parametrize("size", [1, 2, 50])
def test_bodies_of_plain_lines_agree(size: int) -> None:
    """A body of plain lines only is read in one pass (parse's _plain_body)."""
    plain = [line for line in generated_lines(7, 6000) if lineprotocol._FAST_LINE.fullmatch(line)]
    assert len(plain) > 500
    for start in range(0, len(plain), size):
        body = "\n".join(plain[start : start + size])
        for text in (body, body + "\n", body + "\n\n", "\n" + body):
            assert results_agree(text)[0] == results_agree(text)[1], repr(text)
    for line in EDGE_CASES:
        for text in (line, line + "\n"):
            assert results_agree(text)[0] == results_agree(text)[1], repr(text)


def test_a_body_of_plain_lines_is_read_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("read line by line")

    monkeypatch.setattr(lineprotocol, "_scan_lines", refuse)
    result = parse('m,t=a f=1,s="x y" 1\nm,t=b f=2i 2\n', "ns", NOW_NS)
    assert [p.time_ns for p in result.points] == [1, 2] and not result.errors


def test_plain_lines_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without this, every agreement above could hold with the fast path never used."""
    plain = [
        *EDGE_CASES[:2],
        'm,a=1,b=2 s="x y,z=w",f=-1.5e-3,i=7i,u=8u,b=T 12',
        "x" * 50 + " f=1 1",
    ]

    def refuse(*args: object) -> None:
        raise AssertionError(f"full parser used for {args[0]!r}")

    monkeypatch.setattr(lineprotocol, "parse_line", refuse)
    result = parse("\n".join(plain), "ns", NOW_NS)
    assert len(result.points) == len(plain) and not result.errors


def test_malformed_plain_looking_lines_get_the_full_parsers_400() -> None:
    body = "m f=1 1\nm f=1e999 2\nm,t=a,t=b f=1 3\nm f=9223372036854775808i 4\nm f=1 5"
    expected = parse(body, "ns", NOW_NS, fast=False).errors
    assert [error.line for error in expected] == [2, 3, 4]
    with InfluxDBDouble() as influx:
        token = secrets.token_hex(8)
        influx.setup("admin", "password123", "org", "bucket", token=token)
        request = urllib.request.Request(
            f"{influx.url}/api/v2/write?org=org&bucket=bucket", body.encode(), method="POST"
        )
        request.add_header("Authorization", f"Token {token}")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request)
        assert influx.points("bucket") == []
    assert error.value.code == 400
    assert json.loads(error.value.read()) == {
        "code": "invalid",
        "message": "\n".join(e.message for e in expected),
        "line": 2,
    }
