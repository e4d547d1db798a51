"""foreachBatch sinks: data points, aggregates, dead letters and alerts of one micro-batch.

Points go to InfluxDB from the executors, one batched gzip request per few thousand lines;
the lines are built in the JVM and reach Python as text. The executors send back only
counts and latencies, which the driver writes to the pipeline bucket.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.core.rdd import RDD
from pyspark.serializers import UTF8Deserializer
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streamlab.specs import Aggregation, DatasetSpec

from .derived import aggregate_columns, alert_rows, alerts, window_seconds
from .influx import InfluxTarget, LineWriter, chunks, write_lines
from .linecolumns import LineBuilder, spec_field_types
from .lineprotocol import line, point_time_ns
from .parsing import deadletters, valid_rows

Result = tuple[int, list[int]]


@dataclass(frozen=True)
class BatchContext:
    spec: DatasetSpec
    data: InfluxTarget
    pipeline: InfluxTarget
    kafka_bootstrap: str


def _write_partition(target: InfluxTarget) -> Callable[[Iterator[bytes]], Iterator[Result]]:
    """Items are b"<sent_ms> <line>"; each chunk of batch_lines lines is one request."""

    def write(items: Iterator[bytes]) -> Iterator[Result]:
        written, latencies = 0, []
        with LineWriter(target) as writer:
            for chunk in chunks(items, target.batch_lines):
                sent_ms, lines = _split(chunk)
                writer.write_utf8(lines)
                done_ms = int(time.time() * 1000)
                written += len(lines)
                latencies.extend(done_ms - sent for sent in sent_ms)
        yield written, latencies

    return write


def _split(items: list[bytes]) -> tuple[list[int], list[bytes]]:
    sent_ms, lines = [], []
    for item in items:
        sent, _, text = item.partition(b" ")
        lines.append(text)
        if sent:
            sent_ms.append(int(sent))
    return sent_ms, lines


def _utf8_rdd(frame: DataFrame) -> RDD[bytes]:
    """A one-string-column frame as an RDD of its UTF-8 bytes, sent to Python length-prefixed
    as DataFrame.toJSON sends text, instead of as pickled Rows. The column goes as binary:
    the JVM hands over its UTF-8 bytes as they are instead of decoding them to a Java String
    and encoding it again; Python does not decode them either, as they are posted."""
    jvm = frame.sparkSession.sparkContext._jvm
    column = frame.columns[0]
    binary = frame.select(F.col(column).cast("binary"))._jdf
    blobs = getattr(binary, "as")(jvm.org.apache.spark.sql.Encoders.BINARY())
    return RDD(blobs.toJavaRDD(), frame.sparkSession.sparkContext, UTF8Deserializer(False))


class PointItems:
    """ "<sent_ms> <line>" of each valid row that has a point; the columns built once.

    A valid row has a line exactly when one of its fields has a value (its time and the
    measurement always do), so rows are chosen on the fields, before the line is built:
    a filter on the line itself is pushed below the projection by the optimizer and
    builds every line twice.
    """

    def __init__(self, spec: DatasetSpec) -> None:
        self._lines = LineBuilder(spec.name, spec.tags, spec_field_types(spec))
        sent = F.coalesce(F.col("sent_ms").cast("string"), F.lit(""))
        self._item = F.concat(sent, F.lit(" "), F.col("line")).alias("item")
        self._has_line = reduce(Column.__or__, (F.col(n).isNotNull() for n in spec.field_names))

    def of(self, valid: DataFrame) -> DataFrame:
        return self._lines.lines(valid.where(self._has_line), "sent_ms").select(self._item)


def write_points(valid: DataFrame, items: PointItems, target: InfluxTarget) -> Result:
    """Writes a batch's rows as points; returns (points written, per-row latencies in ms).

    The lines are built in the JVM (linecolumns.py); Python only chunks, gzips and posts,
    in one task per core rather than one per Kafka partition: a Python task costs 0.1-0.2 s
    before it reads its first row (measured on 2 cores), a large share of a small batch.
    """
    frame = items.of(valid)
    cores = frame.sparkSession.sparkContext.defaultParallelism
    results = _utf8_rdd(frame.coalesce(cores)).mapPartitions(_write_partition(target)).collect()
    written, latencies = 0, []
    for count, lat in results:
        written += count
        latencies.extend(lat)
    return written, latencies


def kafka_messages(parsed: DataFrame, valid: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Dead letters and alerts as one frame with a topic column: one Kafka write per batch."""
    no_key = F.lit(None).cast("string").alias("key")
    messages = deadletters(parsed, spec).select(
        F.lit(spec.deadletter_topic).alias("topic"), no_key, "value"
    )
    alerting = alerts(valid, spec)
    if alerting is not None:
        topic = F.lit(spec.alerts_topic).alias("topic")
        messages = messages.unionByName(alerting.select(topic, "key", "value"))
    return messages


def _to_kafka(messages: DataFrame, bootstrap: str) -> None:
    messages.write.format("kafka").option("kafka.bootstrap.servers", bootstrap).save()


def pipeline_line(ctx: BatchContext, batch_id: int, written: int, latencies: list[int]) -> str:
    fields: dict[str, Any] = {"points_written": written, "batch_id": batch_id}
    if latencies:
        ordered = sorted(latencies)
        fields["latency_ms_p50"] = float(statistics.median(ordered))
        fields["latency_ms_p95"] = float(ordered[int(0.95 * (len(ordered) - 1))])
        fields["latency_ms_max"] = float(ordered[-1])
    return line("spark_sink", {"dataset": ctx.spec.name}, fields, time.time_ns())


def _cached(parsed: DataFrame) -> DataFrame:
    """The batch as it is kept for its several scans; the raw record only where it is needed,
    in dead letters (most of a row's bytes, and valid rows never read it again)."""
    record = F.when(F.col("reason").isNotNull(), F.col("record")).alias("record")
    return parsed.select(*[record if c == "record" else c for c in parsed.columns]).persist()


def process_batch(ctx: BatchContext) -> Callable[[DataFrame, int], None]:
    """The foreachBatch function of a dataset's `sinks` query (parsed Kafka records in).

    The batch is read from Kafka and parsed once (persisted). Dead letters and alerts go
    first, in one Kafka write, then the alert points: once a batch's points are visible,
    only the pipeline point and the commit remain, so a query stopped then rarely re-sends
    a batch's messages.
    """
    items = PointItems(ctx.spec)

    def run(parsed: DataFrame, batch_id: int) -> None:
        cached = _cached(parsed)
        try:
            valid = valid_rows(cached, ctx.spec)
            _to_kafka(kafka_messages(cached, valid, ctx.spec), ctx.kafka_bootstrap)
            write_alerts(valid, ctx)
            written, latencies = write_points(valid, items, ctx.data)
            write_lines(ctx.pipeline, [pipeline_line(ctx, batch_id, written, latencies)])
        finally:
            cached.unpersist()

    return run


def aggregate_lines(rows: list[dict[str, Any]], spec: DatasetSpec, agg: Aggregation) -> list[str]:
    window_tag = f"{window_seconds(agg.window)}s"
    out = []
    for row in rows:
        tags = {**{t: row[t] for t in spec.tags}, "window": window_tag}
        fields = {c: row[c] for c in aggregate_columns(agg)}
        text = line(f"{spec.name}_agg", tags, fields, point_time_ns(row["window_us"], 0))
        if text is not None:
            out.append(text)
    return out


def process_aggregates(ctx: BatchContext, agg: Aggregation) -> Callable[[DataFrame, int], None]:
    """foreachBatch of an aggregate query (update mode): each window's point is rewritten."""

    def run(updates: DataFrame, batch_id: int) -> None:
        rows = [r.asDict() for r in updates.collect()]
        if rows:
            write_lines(ctx.data, aggregate_lines(rows, ctx.spec, agg))

    return run


def alert_lines(rows: list[dict[str, Any]], spec: DatasetSpec) -> list[str]:
    out = []
    for row in rows:
        tags = {**{t: row[t] for t in spec.tags}, "alert": row["alert"]}
        fields = {"value": row["value"], "threshold": row["threshold"]}
        when = point_time_ns(row["ts_us"], row["seq"])
        text = line(f"{spec.name}_alerts", tags, fields, when)
        if text is not None:
            out.append(text)
    return out


def write_alerts(valid: DataFrame, ctx: BatchContext) -> None:
    """<dataset>_alerts points, written as the aggregates are: collected, then batched
    (alerts are few; the data points take the executors' path)."""
    firing = alert_rows(valid, ctx.spec)
    if firing is None:
        return
    rows = [r.asDict() for r in firing.collect()]
    if rows:
        write_lines(ctx.data, alert_lines(rows, ctx.spec))
