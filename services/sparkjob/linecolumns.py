"""The line protocol of lineprotocol.py built by Spark SQL expressions, inside the JVM.

The sinks hand Python ready lines instead of rows: building them in the JVM costs a small
fraction of unpickling rows and formatting them in Python. lineprotocol.py stays the
reference; the tests check that both write the same text for the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from streamlab.specs import DatasetSpec

from .lineprotocol import SEQ_SLOTS
from .parsing import SPARK_TYPES, TYPES_BY_NAME

_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "\\": "\\\\"})
_TAG_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\=", "\\": "\\\\"})
# Java regex replacement: a backslash, then the character matched.
_BACKSLASH_BEFORE = r"\\$1"
# Shortest round-trip digits, as Python's repr; Double.toString on Java 17 is not always
# the shortest (JDK-4511638, fixed in Java 19). jackson-core ships with Spark.
_SHORTEST_DOUBLE = ("com.fasterxml.jackson.core.io.NumberOutput", "toString")
# Below this |ts_us|, ts_us * 1000 fits a long; beyond, the sum is made in decimal.
_LONG_SAFE_US = 9_000_000_000_000_000
_TINY = 1e-320
# Fixed notation for |x| in [1e-4, 1e16): 16 digits before the point, 21 after.
_PLAIN_DECIMAL = "decimal(38,21)"


def _escaped(value: Column, characters: str) -> Column:
    """The value with a backslash before each of the characters. The regular expression
    only runs where one occurs: most values have none, and a search for a byte costs a
    small fraction of a regexp_replace (JFR: regexes were 6-9% of the job's JVM CPU)."""
    pattern = "([" + "".join("\\" + c if c in "\\" else c for c in characters) + "])"
    present = reduce(Column.__or__, (value.contains(c) for c in characters))
    return F.when(present, F.regexp_replace(value, pattern, _BACKSLASH_BEFORE)).otherwise(value)


def _shortest(number: Column) -> Column:
    """The double's shortest round-trip digits, in Java's format (1.0E-5, 123.45)."""
    digits = F.call_function("java_method", *map(F.lit, _SHORTEST_DOUBLE), number, F.lit(True))
    return F.when(number.isNotNull(), digits)  # reflection refuses a null double


def _python_float(java: Column) -> Column:
    """Java's double format rewritten as Python's repr. Java uses an exponent outside
    [1e-3, 1e7) (1.0E7, 1.5E-4), Python outside [1e-4, 1e16) (1e+16, 1.5e-05)."""
    exponent = F.regexp_extract(java, r"E(-?[0-9]+)$", 1).try_cast("int")
    # Written out in decimal, the trailing zeros of the fixed scale trimmed: 10000000.0
    plain = java.cast(_PLAIN_DECIMAL).cast("string")
    plain = F.regexp_replace(F.regexp_replace(plain, "0+$", ""), r"\.$", ".0")
    scientific = F.regexp_replace(java, r"\.0E", "E")  # 1.0E16 -> 1E16
    scientific = F.regexp_replace(scientific, r"E(?<s>-?)(?<d>[0-9])$", "E${s}0${d}")
    scientific = F.regexp_replace(F.regexp_replace(scientific, "E-", "e-"), "E", "e+")
    return (
        F.when(~java.contains("E"), java)
        .when(exponent.between(-4, 15), plain)
        .otherwise(scientific)
    )


def _float_text(value: Column, java: Column) -> Column:
    """lineprotocol's repr(value); java = _shortest(value), computed once beforehand."""
    number = value.cast("double")
    finite = ~F.isnan(number) & (F.abs(number) != float("inf"))
    # Java writes at least two digits: 4.9E-324 where Python's one digit, 5e-324, reads
    # back as the same double (only the smallest subnormals have a one-digit form).
    one_digit = F.format_string("%.0e", number)
    tiny = (F.abs(number) < _TINY) & (number != 0) & (one_digit.try_cast("double") == number)
    return F.when(finite & tiny, one_digit).when(finite, _python_float(java))


def _field_text(value: Column, kind: T.DataType, java: Column | None) -> Column:
    """A field's value as lineprotocol._field_value writes it; null when it writes none."""
    if isinstance(kind, T.BooleanType):
        return F.when(value, "true").when(~value, "false")
    if isinstance(kind, T.IntegralType):
        return F.concat(value.cast("string"), F.lit("i"))
    if isinstance(kind, (T.DoubleType, T.FloatType)) and java is not None:
        return _float_text(value, java)
    if isinstance(kind, T.StringType):
        text = F.replace(_escaped(value, '"\\'), F.lit("\n"), F.lit("\\n"))
        return F.concat(F.lit('"'), text, F.lit('"'))
    raise TypeError(f"no line protocol field type for Spark type {kind.simpleString()}")


def _tag_text(name: str, value: Column) -> Column:
    text = value.cast("string")
    piece = F.concat(F.lit(f",{name.translate(_TAG_ESCAPES)}="), _escaped(text, ",= \\"))
    return F.when(text.isNull() | (text == ""), F.lit("")).otherwise(piece)


def _time_text(ts_us: Column, seq: Column) -> Column:
    """point_time_ns(ts_us, seq) as text; pmod is Python's % for a positive divisor."""
    slot = F.pmod(seq, F.lit(SEQ_SLOTS))
    in_long = (ts_us * 1000 + slot).cast("string")
    in_decimal = (ts_us.cast("decimal(38,0)") * 1000 + slot).cast("string")
    safe = ts_us.between(-_LONG_SAFE_US, _LONG_SAFE_US)
    return F.when(safe, in_long).otherwise(in_decimal)


class LineBuilder:
    """lineprotocol.lines() as two projections in the JVM: first each float's shortest
    digits (one reflective call per value), then the line.

    Built once per query, not per micro-batch: building it takes a few hundred calls into
    the JVM, and a smaller plan is analysed faster each batch.
    """

    def __init__(
        self, measurement: str, tag_names: Iterable[str], fields: Mapping[str, T.DataType]
    ) -> None:
        floats = [n for n, kind in fields.items() if isinstance(kind, (T.DoubleType, T.FloatType))]
        self._digits = {name: f"_shortest_{i}" for i, name in enumerate(floats)}
        self._first = [
            _shortest(F.col(name).cast("double")).alias(alias)
            for name, alias in self._digits.items()
        ]
        self._line = self._line_of(measurement, sorted(tag_names), fields)

    def _line_of(
        self, measurement: str, tags: list[str], fields: Mapping[str, T.DataType]
    ) -> Column:
        field_texts = [
            F.concat(F.lit(f"{name.translate(_TAG_ESCAPES)}="), _field_text(
                F.col(name), kind, F.col(self._digits[name]) if name in self._digits else None
            ))
            for name, kind in fields.items()
        ]  # fmt: skip
        # concat is null when a part is: no line where no field has a value.
        return F.concat(
            F.lit(measurement.translate(_MEASUREMENT_ESCAPES)),
            *[_tag_text(name, F.col(name)) for name in tags], F.lit(" "),
            F.nullif(F.concat_ws(",", *field_texts), F.lit("")), F.lit(" "),
            _time_text(F.col("ts_us"), F.col("seq")),
        )  # fmt: skip

    @property
    def digits(self) -> list[Column]:
        """The columns the line reads beside the row's own: each float's shortest digits."""
        return list(self._first)

    @property
    def line(self) -> Column:
        """The line, null where lines() skips the row, over a frame that holds `digits`."""
        return self._line

    def lines(self, frame: DataFrame, *keep: str) -> DataFrame:
        """A `line` column (null where lines() skips the row) and the `keep` columns."""
        return frame.select("*", *self._first).select(self._line.alias("line"), *keep)


def spec_field_types(spec: DatasetSpec) -> dict[str, T.DataType]:
    """The Spark type of each field of a spec, as parsing.parse() casts it, in spec order."""
    return {f.name: TYPES_BY_NAME[SPARK_TYPES[f.type]] for f in spec.fields}
