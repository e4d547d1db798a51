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

from .derived import aggregate_columns, alert_rows, alerts, fires, window_seconds
from .influx import InfluxTarget, LineWriter, chunks, write_lines
from .linecolumns import LineBuilder, spec_field_types
from .lineprotocol import line, point_time_ns
from .parsing import deadletters, valid_rows
from .zipcache import keep_zip_directories

# (points written, per-row latencies in ms, rows that need messages)
Result = tuple[int, list[int], int]
# An item's first byte when its row needs a dead letter or an alert; a point item starts
# with a digit (its sent_ms) or a space (no sent_ms).
FLAG = b"!"


@dataclass(frozen=True)
class BatchContext:
    spec: DatasetSpec
    data: InfluxTarget
    pipeline: InfluxTarget
    kafka_bootstrap: str


def _write_partition(target: InfluxTarget) -> Callable[[Iterator[bytes]], Iterator[Result]]:
    """Items as BatchItems makes them; each chunk of batch_lines items is at most one
    request."""

    def write(items: Iterator[bytes]) -> Iterator[Result]:
        keep_zip_directories()  # for this worker's next tasks
        written, latencies, flagged = 0, [], 0
        with LineWriter(target) as writer:
            for chunk in chunks(items, target.batch_lines):
                sent_ms, lines, flags = _split(chunk)
                flagged += flags
                if lines:
                    writer.write_utf8(lines)
                done_ms = int(time.time() * 1000)
                written += len(lines)
                latencies.extend(done_ms - sent for sent in sent_ms)
        yield written, latencies, flagged

    return write


def _split(items: list[bytes]) -> tuple[list[int], list[bytes], int]:
    sent_ms, lines, flags = [], [], 0
    for item in items:
        if item.startswith(FLAG):
            flags += 1
            item = item[1:]
        if not item:
            continue
        sent, _, text = item.partition(b" ")
        lines.append(text)
        if sent:
            sent_ms.append(int(sent))
    return sent_ms, lines, flags


def _utf8_rdd(frame: DataFrame, partitions: int) -> RDD[bytes]:
    """A one-binary-column frame as an RDD of its bytes in `partitions` partitions, sent to
    Python length-prefixed as DataFrame.toJSON sends text, instead of as pickled Rows. As
    binary, the JVM hands over its UTF-8 bytes as they are, with no round trip through a
    Java String; Python does not decode them either, as they are posted. The partitions
    are merged on the RDD, with no further DataFrame to analyse."""
    jvm = frame.sparkSession.sparkContext._jvm
    blobs = getattr(frame._jdf, "as")(jvm.org.apache.spark.sql.Encoders.BINARY())
    rdd = RDD(blobs.toJavaRDD(), frame.sparkSession.sparkContext, UTF8Deserializer(False))
    return rdd.coalesce(partitions)


class BatchItems:
    """One item per row of a batch: b"<sent_ms> <line>" for a point, FLAG first for a row
    that needs a dead letter or an alert, b"" for a row with neither (no field value).

    Points and flags come out of one pass over the batch: its rows are read from Kafka and
    parsed once, and the JVM builds lines while Python posts them. Only a flagged batch is
    read a second time, for its messages (rare for dead letters; alerts as the spec fires).

    No row is filtered out in the JVM: Spark 4.0 pushes a filter below the projections it
    refers to, inlining them, so a filter on the parsed columns parses every record again
    (SPARK-47672) and one on the line builds it twice. Python skips the empty items.
    """

    def __init__(self, spec: DatasetSpec) -> None:
        self._spec = spec
        self._lines = LineBuilder(spec.name, spec.tags, spec_field_types(spec))
        valid = F.col("reason").isNull()
        has_line = reduce(Column.__or__, (F.col(n).isNotNull() for n in spec.field_names))
        needs_messages = ~valid
        if spec.alerts:
            needs_messages = reduce(Column.__or__, (fires(a) for a in spec.alerts), ~valid)
        self._point = valid & has_line
        self._flag = F.coalesce(needs_messages, F.lit(False))
        sent = F.coalesce(F.col("sent_ms").cast("string"), F.lit(""))
        point_item = F.when(F.col("_point"), F.concat(sent, F.lit(" "), self._lines.line))
        self._item = F.concat(
            F.when(F.col("_flag"), F.lit(FLAG.decode())).otherwise(F.lit("")),
            F.coalesce(point_item, F.lit("")),
        ).cast("binary")

    def of(self, parsed: DataFrame) -> DataFrame:
        """The items as one binary column, in two projections: every select is analysed
        again over the whole parsing plan, measured at 0.1-0.7 s each per micro-batch."""
        rows = parsed.select(
            *self._spec.tags, *self._spec.field_names, "seq", "sent_ms",
            F.unix_micros("ts").alias("ts_us"),
            self._point.alias("_point"), self._flag.alias("_flag"), *self._lines.digits,
        )  # fmt: skip
        return rows.select(self._item.alias("item"))


def write_points(parsed: DataFrame, items: BatchItems, target: InfluxTarget) -> Result:
    """Writes a batch's rows as points; returns (points written, per-row latencies in ms,
    rows that need a dead letter or an alert).

    The lines are built in the JVM (linecolumns.py); Python only chunks, gzips and posts,
    in one task per core rather than one per Kafka partition: a Python task costs 0.1-0.2 s
    before it reads its first row (measured on 2 cores), a large share of a small batch.
    """
    frame = items.of(parsed)
    cores = frame.sparkSession.sparkContext.defaultParallelism
    results = _utf8_rdd(frame, cores).mapPartitions(_write_partition(target)).collect()
    written, latencies, flagged = 0, [], 0
    for count, lat, flags in results:
        written += count
        latencies.extend(lat)
        flagged += flags
    return written, latencies, flagged


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


def write_messages(parsed: DataFrame, ctx: BatchContext) -> None:
    """Dead letters and alerts, in one Kafka write, then the alert points: the batch read
    again (from Kafka, and parsed) and cached for these scans."""
    cached = _cached(parsed)
    try:
        valid = valid_rows(cached, ctx.spec)
        _to_kafka(kafka_messages(cached, valid, ctx.spec), ctx.kafka_bootstrap)
        write_alerts(valid, ctx)
    finally:
        cached.unpersist()


def process_batch(ctx: BatchContext) -> Callable[[DataFrame, int], None]:
    """The foreachBatch function of a dataset's `sinks` query (parsed Kafka records in).

    Points first, in one pass that also counts the rows that need messages; a batch with
    any then has its dead letters and alerts written (write_messages). The batch's
    commit follows its messages, so a query stopped between them re-sends them: dead
    letters and alerts are at least once, points are idempotent.
    """
    items = BatchItems(ctx.spec)

    def run(parsed: DataFrame, batch_id: int) -> None:
        written, latencies, flagged = write_points(parsed, items, ctx.data)
        if flagged:
            write_messages(parsed, ctx)
        write_lines(ctx.pipeline, [pipeline_line(ctx, batch_id, written, latencies)])

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
