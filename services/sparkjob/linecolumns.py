"""The line protocol of lineprotocol.py built by Spark SQL expressions, inside the JVM.

The sinks hand Python ready lines instead of rows: building them in the JVM costs a small
fraction of unpickling rows and formatting them in Python. lineprotocol.py stays the
reference; the tests check that both write the same text for the same values.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .lineprotocol import SEQ_SLOTS

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


def _escaped(value: Column, characters: str) -> Column:
    pattern = "([" + "".join("\\" + c if c in "\\" else c for c in characters) + "])"
    return F.regexp_replace(value, pattern, _BACKSLASH_BEFORE)


def _python_float(java: Column) -> Column:
    """Java's double format (1.0E-5, 1.0E7, 123.45) rewritten as Python's repr (1e-05,
    10000000.0, 123.45): Java uses exponents outside [1e-3, 1e7), Python outside [1e-4, 1e16)."""
    parts = r"^(-?)([0-9])\.([0-9]+)E(-?[0-9]+)$"
    sign, lead = F.regexp_extract(java, parts, 1), F.regexp_extract(java, parts, 2)
    fraction = F.regexp_extract(java, parts, 3)
    fraction = F.when(fraction == "0", F.lit("")).otherwise(fraction)
    exponent = F.regexp_extract(java, parts, 4).try_cast("int")
    digits = F.concat(lead, fraction)
    scientific = F.concat(
        sign, lead, F.when(fraction == "", "").otherwise(F.concat(F.lit("."), fraction)),
        F.lit("e"), F.when(exponent < 0, "-").otherwise("+"),
        F.when(F.abs(exponent) < 10, "0").otherwise(""), F.abs(exponent).cast("string"),
    )  # fmt: skip
    small = F.concat(sign, F.lit("0."), F.repeat(F.lit("0"), -exponent - 1), digits)
    whole = F.length(digits) <= exponent + 1
    large = F.concat(
        sign,
        F.when(whole, F.concat(F.rpad(digits, exponent + 1, "0"), F.lit(".0"))).otherwise(
            F.concat(digits.substr(F.lit(1), exponent + 1), F.lit("."),
                     digits.substr(exponent + 2, F.lit(17)))
        ),
    )  # fmt: skip
    return (
        F.when(~java.contains("E"), java)
        .when((exponent >= 16) | (exponent < -4), scientific)
        .when(exponent < 0, small)
        .otherwise(large)
    )


def _float_text(value: Column) -> Column:
    number = value.cast("double")
    java = F.call_function("java_method", *map(F.lit, _SHORTEST_DOUBLE), number, F.lit(True))
    finite = ~F.isnan(number) & (F.abs(number) != float("inf"))
    # Java writes at least two digits: 4.9E-324 where Python's one digit, 5e-324, reads
    # back as the same double (only the smallest subnormals have a one-digit form).
    one_digit = F.format_string("%.0e", number)
    tiny = (F.abs(number) < _TINY) & (number != 0) & (one_digit.try_cast("double") == number)
    return F.when(finite & tiny, one_digit).when(finite, _python_float(java))


def _field_text(value: Column, kind: T.DataType) -> Column:
    """A field's value as lineprotocol._field_value writes it; null when it writes none."""
    if isinstance(kind, T.BooleanType):
        return F.when(value, "true").when(~value, "false")
    if isinstance(kind, T.IntegralType):
        return F.concat(value.cast("string"), F.lit("i"))
    if isinstance(kind, (T.DoubleType, T.FloatType)):
        return _float_text(value)
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


def line_column(
    frame: DataFrame,
    measurement: str,
    tag_names: Iterable[str],
    field_names: Iterable[str],
) -> Column:
    """lineprotocol.lines() of one row of `frame` (which has ts_us and seq columns): the
    line, or null where lines() skips the row (no field has a value)."""
    types = {f.name: f.dataType for f in frame.schema.fields}
    tags = [_tag_text(name, F.col(name)) for name in sorted(tag_names)]
    fields = [
        F.concat(F.lit(f"{name.translate(_TAG_ESCAPES)}="), _field_text(F.col(name), types[name]))
        for name in field_names
    ]
    field_text = F.concat_ws(",", *fields)
    text = F.concat(
        F.lit(measurement.translate(_MEASUREMENT_ESCAPES)), *tags, F.lit(" "), field_text,
        F.lit(" "), _time_text(F.col("ts_us"), F.col("seq")),
    )  # fmt: skip
    return F.when(field_text != "", text)
