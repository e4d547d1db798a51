"""A DataFrame's rows as InfluxDB points, written from the executors in batches.

Each task hands its Arrow batches to streamlab.influx (influxdb-client's DataFrame
serializer, gzip, batch_size points a request) and answers one small row per Arrow batch:
how many rows it wrote, flagged (need a dead letter or an alert), missed and dropped, and
the send-to-stored latency of each written row. The driver collects those rows and sums
them, so the batch is read from Kafka and parsed once, in one Spark stage: no aggregation's
shuffle in every micro-batch (docs/decisions.md, "What a dataset costs the job").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame

from streamlab.influx import TIME_COLUMN, InfluxTarget, InfluxWriter, Series

# Optional control columns of the frame written; none of them is a field. MISSED and
# DROPPED are only counted: a row that missed a lookup, a row left out.
POINT, FLAG, SENT_MS, MISSED, DROPPED = "_point", "_flag", "sent_ms", "_missed", "_dropped"
COUNTED = (FLAG, MISSED, DROPPED)
RESULT_SCHEMA = "written long, _flag long, _missed long, _dropped long, latency_ms array<long>"
# Arrow's nullable integers and booleans kept as such (a null would make them floats and
# objects), so an integer field stays an integer field in InfluxDB.
_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}
_PANDAS_TYPES[pa.bool_()] = pd.BooleanDtype()


@dataclass(frozen=True)
class Written:
    points: int
    flagged: int
    latency_ms: dict[str, float]  # latency_ms_p50, _p95, _max where rows had a send time
    missed: int = 0
    dropped: int = 0


def _to_pandas(batch: pa.RecordBatch) -> pd.DataFrame:
    return batch.to_pandas(types_mapper=_PANDAS_TYPES.get)


_RESULT_ARROW = pa.schema(
    [("written", pa.int64()), *((name, pa.int64()) for name in COUNTED),
     ("latency_ms", pa.list_(pa.int64()))]
)  # fmt: skip


def _flag(frame: pd.DataFrame, name: str) -> pd.Series:
    """A control column as plain booleans (False where the frame has none)."""
    if name not in frame:
        return pd.Series(False, frame.index)
    return frame[name].fillna(False).astype(bool)


def _result(frame: pd.DataFrame, written: pd.Series, latency: pd.Series) -> pa.RecordBatch:
    """One row: the batch's counts and its written rows' latencies."""
    counts = {name: [int(_flag(frame, name).sum())] for name in COUNTED}
    latencies = [int(v) for v in latency.dropna()]
    columns = {"written": [int(written.sum())], **counts, "latency_ms": [latencies]}
    return pa.RecordBatch.from_pydict(columns, schema=_RESULT_ARROW)


def _write_batches(
    target: InfluxTarget, series: Series
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def write(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        with InfluxWriter(target) as writer:
            for batch in batches:
                frame = _to_pandas(batch)
                chosen = _flag(frame, POINT) if POINT in frame else True
                has_field = frame[list(series.fields)].notna().any(axis=1)
                written = has_field & chosen
                points = frame.loc[written, [*series.tags, *series.fields, TIME_COLUMN]]
                writer.write_frame(points, series.measurement, series.tags, TIME_COLUMN)
                done_ms = int(time.time() * 1000)
                sent = frame[SENT_MS] if SENT_MS in frame else pd.Series(pd.NA, frame.index)
                latency = (done_ms - sent.astype("Int64")).where(written)
                yield _result(frame, written, latency)

    return write


def write_frame(frame: DataFrame, target: InfluxTarget, series: Series) -> Written:
    """Writes the frame's rows as points of `series` (its tags, fields and TIME_COLUMN;
    optional POINT, SENT_MS and COUNTED columns choose rows, time them and mark them) in one
    task per core: a Python task has a fixed start-up cost, a large share of a small batch."""
    cores = frame.sparkSession.sparkContext.defaultParallelism
    results = frame.coalesce(cores).mapInArrow(_write_batches(target, series), RESULT_SCHEMA)
    table = results.toArrow()
    counts = {name: int(pc.sum(table[name]).as_py() or 0) for name in ("written", *COUNTED)}
    latencies = pc.list_flatten(table["latency_ms"]).to_pandas()
    return Written(
        counts["written"], counts[FLAG], _percentiles(latencies), counts[MISSED], counts[DROPPED]
    )


def _percentiles(latencies: pd.Series) -> dict[str, float]:
    """latency_ms_p50, _p95 and _max of the written rows that had a send time."""
    if latencies.empty:
        return {}
    p50, p95 = latencies.quantile([0.5, 0.95])
    return {
        "latency_ms_p50": float(p50), "latency_ms_p95": float(p95),
        "latency_ms_max": float(latencies.max()),
    }  # fmt: skip
