"""InfluxDB 2 line protocol, parsed as the InfluxDB OSS 2.7 write endpoint parses it.

Syntax and escaping follow the line protocol reference
(docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/); the error reasons
("missing fields", "invalid number", "bad timestamp", ...) are the ones the server's
parser (influxdb models/points.go) reports, so messages read like the real ones.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

FLOAT = "float"
INTEGER = "integer"
UNSIGNED = "unsigned"
BOOLEAN = "boolean"
STRING = "string"

PRECISION_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}

# models.MinNanoTime / MaxNanoTime: the int64 range minus the values the engine reserves.
MIN_NANO_TIME = -(2**63) + 2
MAX_NANO_TIME = 2**63 - 2
TIME_RANGE_REASON = f"time outside range {MIN_NANO_TIME} - {MAX_NANO_TIME}"

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT64_MAX = 2**64 - 1
_TRUE = frozenset({"t", "T", "true", "True", "TRUE"})
_FALSE = frozenset({"f", "F", "false", "False", "FALSE"})
_NUMBER_START = frozenset("0123456789.-Nn")
_LEADING_WHITESPACE = " \t\0"
_NAME_ESCAPES = ",= "
_MEASUREMENT_ESCAPES = ", "
_INTEGER = re.compile(r"-?[0-9]+i")
_UNSIGNED = re.compile(r"[0-9]+u")
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TIMESTAMP = re.compile(r"-?[0-9]*")
# Characters that matter when splitting lines, reading names and reading strings.
_LINE_SIGNIFICANT = re.compile(r'[\\ =,"\n]')
_STRING_SIGNIFICANT = re.compile(r'["\\]')
# The fast path: a line whose names, tag values and unquoted values hold none of
# whitespace, comma, equals, quote or backslash, whose strings hold no quote or backslash,
# with one space between the sections and a timestamp, not a comment nor starting with NUL
# (leading whitespace to the server). Such a line has one reading, the same as the full
# parser's; any other line goes to the full parser.
_PLAIN = r'[^\s,="\\]+'
_PLAIN_FIELD = rf'{_PLAIN}=(?:"[^"\\\n]*"|{_PLAIN})'
_FAST_LINE = re.compile(
    rf"(?![#\0])({_PLAIN})((?:,{_PLAIN}={_PLAIN})*) ({_PLAIN_FIELD}(?:,{_PLAIN_FIELD})*) (-?[0-9]+)"
)
_FAST_FIELD = re.compile(rf'({_PLAIN})=(?:"([^"\\\n]*)"|({_FLOAT.pattern})(?=,|$)|({_PLAIN}))')


# Named tuples, not dataclasses: a write builds one Point and a Field per value, and a
# tuple is built in a fraction of a frozen dataclass's time.
class Field(NamedTuple):
    kind: str
    value: float | int | bool | str


class Point(NamedTuple):
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: dict[str, Field]
    time_ns: int


# The fast path builds them from a tuple, skipping the generated __new__.
_new_field = functools.partial(tuple.__new__, Field)
_new_point = functools.partial(tuple.__new__, Point)


@dataclass(frozen=True)
class LineError:
    line: int
    text: str
    reason: str

    @property
    def message(self) -> str:
        return f"unable to parse '{self.text}': {self.reason}"


@dataclass
class ParseResult:
    points: list[Point] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


class LineSyntaxError(ValueError):
    """One line is malformed; the message is the reason the server would give."""


def parse(body: str, precision: str, now_ns: int, fast: bool = True) -> ParseResult:
    """Every point of a write body, plus every malformed line (the server reports them all).

    fast=False reads every line with the full parser (the tests compare both).
    """
    if fast and (points := _plain_body(body, PRECISION_NS[precision])) is not None:
        return ParseResult(points)
    result = ParseResult()
    for number, line, match in _scan_lines(body, fast):
        try:
            result.points.append(_point(line, match, precision, now_ns))
        except LineSyntaxError as error:
            result.errors.append(LineError(number, line, str(error)))
    return result


def iter_lines(body: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of each line holding a point; skips blanks and comments."""
    for number, line, _ in _scan_lines(body, fast=False):
        yield number, line


def _scan_lines(body: str, fast: bool) -> Iterator[tuple[int, str, re.Match[str] | None]]:
    """As iter_lines, plus the fast path's match of each line that has one."""
    position, number = 0, 1
    while position < len(body):
        newline = body.find("\n", position)
        end = len(body) if newline < 0 else newline
        line = body[position:end].lstrip(_LEADING_WHITESPACE)
        # A matched line holds no newline and its quotes pair up, so its newline ends it.
        match = _FAST_LINE.fullmatch(line) if fast else None
        if match is None:
            end = _line_end(body, position)
            raw = body[position:end]
            line = raw.lstrip(_LEADING_WHITESPACE)
            number_of_lines = raw.count("\n") + 1
        else:
            number_of_lines = 1
        if line and not line.startswith("#"):
            yield number, line, match
        number += number_of_lines
        position = end + 1


def _plain_body(body: str, multiplier: int) -> list[Point] | None:
    """The points of a body whose every line the fast path reads (what batching clients
    send), in one pass; None when any line needs the line-by-line reading."""
    matches = list(map(_FAST_LINE.fullmatch, body.rstrip("\n").split("\n")))
    if None in matches:
        return None
    try:
        return [_fast_point(match, multiplier) for match in matches]  # type: ignore[arg-type]
    except (LineSyntaxError, _NotPlain):
        return None


def _point(line: str, match: re.Match[str] | None, precision: str, now_ns: int) -> Point:
    if match is not None:
        try:
            return _fast_point(match, PRECISION_NS[precision])
        except (LineSyntaxError, _NotPlain):
            pass  # the full parser decides, and gives the reason
    return parse_line(line, precision, now_ns)


class _NotPlain(Exception):
    """A matched line the fast path leaves to the full parser (duplicate tag keys)."""


def _fast_point(match: re.Match[str], multiplier: int) -> Point:
    measurement, tag_text, field_text, time_text = match.groups()
    fields: dict[str, Field] = {}
    for key, text, decimal, token in _FAST_FIELD.findall(field_text):
        if decimal:
            value = float(decimal)
            if math.isinf(value):
                raise LineSyntaxError("invalid float")
            fields[key] = _new_field((FLOAT, value))
        elif token:
            fields[key] = (number_value if token[0] in _NUMBER_START else boolean_value)(token)
        else:
            fields[key] = _new_field((STRING, text))
    tags = _fast_tags(tag_text) if tag_text else ()
    return _new_point((measurement, tags, fields, timestamp_ns(time_text, multiplier)))


def _fast_tags(tag_text: str) -> tuple[tuple[str, str], ...]:
    """ ",k=v,k2=v2" (plain: one "=" each) as sorted pairs."""
    if tag_text.count(",") == 1:
        key, value = tag_text[1:].split("=")
        return ((key, value),)
    pairs = sorted((key, value) for key, value in (p.split("=") for p in tag_text[1:].split(",")))
    if any(a[0] == b[0] for a, b in itertools.pairwise(pairs)):
        raise _NotPlain
    return tuple(pairs)


def _float(token: str) -> Field:
    """A token _FLOAT matches (as in number_value)."""
    value = float(token)
    if math.isinf(value):
        raise LineSyntaxError("invalid float")
    return Field(FLOAT, value)


def _line_end(body: str, start: int) -> int:
    """Index of the newline ending the line at start; a newline inside a quoted string
    field value does not end it (the server's scanLine rule)."""
    newline = body.find("\n", start)
    segment = body[start:] if newline < 0 else body[start:newline]
    if '"' not in segment and "\\" not in segment:
        return len(body) if newline < 0 else newline
    i, in_fields, quoted, equals, commas = start, False, False, 0, 0
    while match := _LINE_SIGNIFICANT.search(body, i):
        i, char = match.start(), match.group()
        if char == "\\":
            i += 2
            continue
        in_fields = in_fields or char == " "
        if in_fields and not quoted and char in "=,":
            equals, commas = equals + (char == "="), commas + (char == ",")
        elif in_fields and char == '"' and equals > commas:
            quoted = not quoted
        elif char == "\n" and not quoted:
            return i
        i += 1
    return len(body)


def parse_line(line: str, precision: str, now_ns: int) -> Point:
    """One point from one line (leading whitespace already removed)."""
    cursor = _Cursor(line)
    measurement = _measurement(cursor)
    tags = _tag_set(cursor)
    cursor.advance()  # the space before the field set
    fields = _field_set(cursor)
    time_ns = _timestamp(cursor, precision, now_ns)
    return Point(measurement, tags, fields, time_ns)


class _Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def advance(self, count: int = 1) -> None:
        self.pos += count

    def skip(self, chars: str) -> None:
        while not self.at_end() and self.text[self.pos] in chars:
            self.pos += 1

    def read_name(self, stops: str, escapable: str) -> tuple[str, str]:
        """Text up to an unescaped stop character, unescaped; returns (text, stop or "").

        A backslash escapes the characters the reference lists for the element and
        itself; before any other character it is a literal backslash.
        """
        out: list[str] = []
        significant = _significant(stops)
        while match := significant.search(self.text, self.pos):
            out.append(self.text[self.pos : match.start()])
            self.pos = match.start()
            char = match.group()
            if char != "\\":
                return "".join(out), char
            following = self.text[self.pos + 1 : self.pos + 2]
            escaped = bool(following) and (following in escapable or following == "\\")
            out.append(following if escaped else "\\")
            self.pos += 2 if escaped else 1
        out.append(self.text[self.pos :])
        self.pos = len(self.text)
        return "".join(out), ""

    def read_token(self, stops: str) -> str:
        match = _any_of(stops).search(self.text, self.pos)
        end = match.start() if match else len(self.text)
        token, self.pos = self.text[self.pos : end], end
        return token


@functools.cache
def _any_of(chars: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(chars) + "]")


def _significant(stops: str) -> re.Pattern[str]:
    """Finds the next stop character or backslash."""
    return _any_of(stops + "\\")


def _measurement(cursor: _Cursor) -> str:
    if cursor.peek() == ",":
        raise LineSyntaxError("missing measurement")
    name, stop = cursor.read_name(", ", _MEASUREMENT_ESCAPES)
    if not stop:
        raise LineSyntaxError("missing fields")
    return name


def _tag_set(cursor: _Cursor) -> tuple[tuple[str, str], ...]:
    tags: dict[str, str] = {}
    while cursor.peek() == ",":
        cursor.advance()
        key = _tag_key(cursor)
        if key in tags:
            raise LineSyntaxError("duplicate tags")
        tags[key] = _tag_value(cursor)
    return tuple(sorted(tags.items()))


def _tag_key(cursor: _Cursor) -> str:
    if cursor.peek() in ("", " ", ",", "="):
        raise LineSyntaxError("missing tag key")
    key, stop = cursor.read_name(",= ", _NAME_ESCAPES)
    if stop != "=":
        raise LineSyntaxError("missing tag value")
    cursor.advance()
    return key


def _tag_value(cursor: _Cursor) -> str:
    if cursor.peek() in ("", " ", ","):
        raise LineSyntaxError("missing tag value")
    value, stop = cursor.read_name(",= ", _NAME_ESCAPES)
    if stop == "=":
        raise LineSyntaxError("invalid tag format")
    if not stop:
        raise LineSyntaxError("missing fields")
    return value


def _field_set(cursor: _Cursor) -> dict[str, Field]:
    cursor.skip(_LEADING_WHITESPACE)
    if cursor.at_end():
        raise LineSyntaxError("invalid field format")
    fields: dict[str, Field] = {}
    while True:
        key = _field_key(cursor)
        fields[key] = _field_value(cursor)
        if cursor.peek() != ",":
            return fields
        cursor.advance()


def _field_key(cursor: _Cursor) -> str:
    if cursor.peek() == "=":
        raise LineSyntaxError("missing field key")
    if cursor.peek() in ("", " ", ","):
        raise LineSyntaxError("invalid field format")
    key, stop = cursor.read_name(",= ", _NAME_ESCAPES)
    if stop != "=":
        raise LineSyntaxError("invalid field format")
    cursor.advance()
    return key


def _field_value(cursor: _Cursor) -> Field:
    first = cursor.peek()
    if first in ("", " ", ","):
        raise LineSyntaxError("missing field value")
    if first == '"':
        value = _string_value(cursor)
    elif first in _NUMBER_START:
        value = number_value(cursor.read_token(", "))
    else:
        value = boolean_value(cursor.read_token(", "))
    if cursor.peek() not in ("", " ", ","):
        raise LineSyntaxError("invalid field format")
    return value


def _string_value(cursor: _Cursor) -> Field:
    """A double-quoted string; inside it only \\" and \\\\ are escapes."""
    text, out = cursor.text, []
    cursor.advance()
    while match := _STRING_SIGNIFICANT.search(text, cursor.pos):
        out.append(text[cursor.pos : match.start()])
        cursor.pos = match.start()
        if match.group() == '"':
            cursor.advance()
            return Field(STRING, "".join(out))
        following = text[cursor.pos + 1 : cursor.pos + 2]
        escaped = following in ('"', "\\")
        out.append(following if escaped else "\\")
        cursor.advance(2 if escaped else 1)
    raise LineSyntaxError("unbalanced quotes")


def number_value(token: str) -> Field:
    """A float, an integer (i suffix) or an unsigned integer (u suffix)."""
    suffix = token[-1:]  # a float never ends in i or u: one pattern to try, not three
    if suffix == "i" and _INTEGER.fullmatch(token):
        return Field(INTEGER, _bounded(token[:-1], _INT64_MIN, _INT64_MAX, "integer", "ParseInt"))
    if suffix == "u" and _UNSIGNED.fullmatch(token):
        return Field(UNSIGNED, _bounded(token[:-1], 0, _UINT64_MAX, "unsigned", "ParseUint"))
    if _FLOAT.fullmatch(token):
        return _float(token)
    raise LineSyntaxError("invalid number")


def _bounded(digits: str, low: int, high: int, kind: str, parser: str) -> int:
    value = int(digits)
    if not low <= value <= high:
        raise LineSyntaxError(
            f'unable to parse {kind} {digits}: strconv.{parser}: parsing "{digits}": '
            "value out of range"
        )
    return value


def boolean_value(token: str) -> Field:
    if token in _TRUE:
        return Field(BOOLEAN, True)
    if token in _FALSE:
        return Field(BOOLEAN, False)
    raise LineSyntaxError("invalid boolean")


def _timestamp(cursor: _Cursor, precision: str, now_ns: int) -> int:
    multiplier = PRECISION_NS[precision]
    cursor.skip(_LEADING_WHITESPACE)
    token = cursor.read_token(" ")
    if not token:
        return now_ns // multiplier * multiplier
    if not _TIMESTAMP.fullmatch(token):
        raise LineSyntaxError("bad timestamp")
    cursor.skip(" ")
    if not cursor.at_end():
        raise LineSyntaxError("point is invalid")
    return timestamp_ns(token, multiplier)


def timestamp_ns(token: str, multiplier: int) -> int:
    if token == "-":
        raise LineSyntaxError('strconv.ParseInt: parsing "-": invalid syntax')
    value = int(token)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise LineSyntaxError(f'strconv.ParseInt: parsing "{token}": value out of range')
    scaled = value * multiplier
    if not MIN_NANO_TIME <= scaled <= MAX_NANO_TIME:
        raise LineSyntaxError(TIME_RANGE_REASON)
    return scaled
