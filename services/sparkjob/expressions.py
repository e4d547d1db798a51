"""A spec's Spark SQL expressions checked by Spark itself: parsed and analyzed against the
dataset's columns when the job builds its queries, before any of them starts.

A refused expression raises ExpressionError naming the file, the key, the expression and
Spark's own message; the job then leaves that dataset out and runs the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pyspark.errors import AnalysisException, ParseException, PySparkException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType

from streamlab.specs import DatasetSpec

T = TypeVar("T")


class ExpressionError(ValueError):
    """An expression of a spec that Spark refuses; the message says where and why."""

    def __init__(self, spec: DatasetSpec, key: str, expression: str, message: str) -> None:
        super().__init__(
            f"{spec.file}: {key}: Spark refuses the expression {expression!r}: {message}"
        )
        self.file, self.key, self.expression, self.spark_message = (
            str(spec.file), key, expression, message,
        )  # fmt: skip


def spark_message(error: PySparkException) -> str:
    """The first line of Spark's message: its error class and what it found, without the
    query plan it appends."""
    text = error.getMessage() or str(error)
    return text.strip().splitlines()[0].removesuffix(";")


def checked(spec: DatasetSpec, key: str, expression: str, build: Callable[[], T]) -> T:
    """build(), with Spark's parse and analysis errors as ExpressionError."""
    try:
        return build()
    except (ParseException, AnalysisException) as error:
        raise ExpressionError(spec, key, expression, spark_message(error)) from None


def parsed(spec: DatasetSpec, key: str, expression: str) -> Column:
    """The expression as a Column, parsed by Spark's SQL parser."""
    return checked(spec, key, expression, lambda: F.expr(expression))


def boolean(frame: DataFrame, spec: DatasetSpec, key: str, expression: str) -> Column:
    """A condition over frame's columns; refused unless Spark types it boolean."""
    column = parsed(spec, key, expression)
    kind = checked(spec, key, expression, lambda: frame.select(column).schema[0].dataType)
    if not isinstance(kind, BooleanType):
        raise ExpressionError(
            spec, key, expression,
            f"expected a condition (true or false), the expression gives {kind.simpleString()}",
        )  # fmt: skip
    return column
