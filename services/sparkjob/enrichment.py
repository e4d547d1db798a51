"""A dataset's rows after its spec's `derive`, `lookups` and `where`, in that order.

Every row goes on (invalid ones too, with nulls), marked by two control columns: KEEP (a
valid row that passed `where` and every lookup with on_miss: drop) and MISSED (a valid row
with no match in some lookup). Nothing is filtered here: Spark would push a filter on the
parsed columns below the parsing and parse every record twice (SPARK-47672); the sinks
choose rows by KEEP.
"""

from __future__ import annotations

from functools import reduce

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from streamlab.spark.frame_writes import MISSED
from streamlab.spark.parsing import SPARK_TYPES
from streamlab.spec_processing import Lookup
from streamlab.specs import DatasetSpec

from .expressions import ExpressionError, boolean, checked, parsed

KEEP = "_keep"


def _hit(lookup: Lookup) -> str:
    return f"_hit_{lookup.name}"


def load_table(spark: SparkSession, spec: DatasetSpec, index: int) -> DataFrame:
    """A lookup's table: a file beside the spec read on the driver with pandas (it travels
    with the plan, so executors need no copy), or an hdfs:// path read by Spark."""
    lookup, key = spec.lookups[index], f"lookups[{index}].table"
    try:
        if lookup.table.startswith("hdfs://"):
            reader = spark.read.format(lookup.format)
            if lookup.format == "csv":
                reader = reader.option("header", True).option("inferSchema", True)
            return reader.load(lookup.table)
        if lookup.format == "parquet":
            return spark.createDataFrame(pd.read_parquet(lookup.table))
        table = pd.read_csv(lookup.table, dtype=str)
        return spark.createDataFrame(table.apply(_numbers_kept_as_written))
    except Exception as error:  # any unreadable table: pandas, arrow and Hadoop errors
        raise ExpressionError(spec, key, lookup.table, f"cannot read the table: {error}") from None


def _numbers_kept_as_written(column: pd.Series) -> pd.Series:
    """A CSV column as numbers where every value is one written plainly; else its text, so
    a code such as '02126' keeps its zero (pandas' own inference would drop it)."""
    text = column.dropna()
    if text.str.fullmatch(r"[+-]?0\d+").any():
        return column
    numbers = pd.to_numeric(column, errors="coerce")
    return numbers if numbers.notna().sum() == len(text) else column


def derive(frame: DataFrame, spec: DatasetSpec) -> DataFrame:
    for item in spec.derived:
        key = f"derive.{item.name}"
        value = parsed(spec, key, item.expr)
        if item.type is not None:
            value = value.cast(SPARK_TYPES[item.type])
        frame = checked(
            spec, key, item.expr, lambda f=frame, v=value, n=item.name: f.withColumn(n, v)
        )
    return frame


def _dimension(frame: DataFrame, table: DataFrame, spec: DatasetSpec, index: int) -> DataFrame:
    """The table's key (as the stream key's type), added columns and a hit marker; one row
    per key (the first), so a join never multiplies a row."""
    lookup, key = spec.lookups[index], f"lookups[{index}]"
    for column in (lookup.table_key, *lookup.added):
        if column not in table.columns:
            raise ExpressionError(
                spec, key, lookup.table,
                f"the table has no column {column!r} (it has {', '.join(table.columns)})",
            )  # fmt: skip
    key_type = frame.schema[lookup.key].dataType
    return table.select(
        F.col(lookup.table_key).cast(key_type).alias(lookup.key),
        *lookup.added,
        F.lit(True).alias(_hit(lookup)),
    ).dropDuplicates([lookup.key])


def look_up(frame: DataFrame, spec: DatasetSpec, tables: list[DataFrame]) -> DataFrame:
    """Each lookup's columns by a broadcast left join on its key, in order (so a lookup may
    use the columns an earlier one added)."""
    for index, lookup in enumerate(spec.lookups):
        dimension = _dimension(frame, tables[index], spec, index)
        frame = frame.join(F.broadcast(dimension), on=lookup.key, how="left")
    return frame


def _markers(frame: DataFrame, spec: DatasetSpec) -> DataFrame:
    valid = F.col("reason").isNull()
    keep: Column = valid
    if spec.where is not None:
        keep = keep & F.coalesce(boolean(frame, spec, "where", spec.where), F.lit(False))
    missed: Column = F.lit(False)
    for lookup in spec.lookups:
        hit = F.col(_hit(lookup)).isNotNull()
        missed = missed | ~hit
        if lookup.on_miss == "drop":
            keep = keep & hit
    hits = [_hit(x) for x in spec.lookups]
    return frame.withColumns({KEEP: keep, MISSED: valid & missed}).drop(*hits)


def enrich(parsed_rows: DataFrame, spec: DatasetSpec, tables: list[DataFrame]) -> DataFrame:
    """The parsed rows with derived and looked-up columns, KEEP and MISSED."""
    frame = look_up(derive(parsed_rows, spec), spec, tables)
    return _markers(frame, spec)


def any_of(conditions: list[Column]) -> Column:
    return reduce(Column.__or__, conditions, F.lit(False))
