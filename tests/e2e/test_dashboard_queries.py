"""Every Flux query of every dashboard the provisioner imported into Grafana (panels'
targets, variables, annotations) runs on the stack's real InfluxDB as Grafana's datasource
sends it: variables and macros substituted (grafana_flux), with the read token, over the data
the streamer, the Spark job and the metrics collector wrote. Each must succeed; a query over
a measurement and field that have points in the time range must return rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from grafana_flux import (
    Query,
    Reads,
    TimeRange,
    annotation_queries,
    interpolate_macros,
    panel_queries,
    rfc3339_nano,
    substitute_variables,
    variable_queries,
    variable_values,
)
from stack import ROOT, Stack, csv_rows, log

TIME_RANGE = timedelta(hours=1)
# Grafana derives the interval from the range and the panel's width (1 h over 360 points).
INTERVAL = timedelta(seconds=10)
REPORT = ROOT / "tests" / "e2e" / "artifacts" / "dashboard_queries.txt"
# Flux reports an error met while streaming the answer as a table of these columns.
IN_BAND_ERROR = ["", "error", "reference"]

# {bucket: {measurement: {field: points}}}: what the time range holds.
Existing = dict[str, dict[str, dict[str, int]]]


@dataclass(frozen=True)
class Outcome:
    query: Query
    flux: str  # as sent
    status: int
    rows: int
    error: str
    expected: bool  # it reads points that exist, so it must return rows

    @property
    def failed(self) -> bool:
        return self.status != 200 or bool(self.error)


@pytest.fixture(scope="module")
def time_range() -> TimeRange:
    stop = datetime.now(UTC)
    return TimeRange(stop - TIME_RANGE, stop, INTERVAL)


@pytest.fixture(scope="module")
def dashboards(stack: Stack) -> list[dict[str, Any]]:
    """The dashboards as Grafana holds them (GET /api/dashboards/uid/...)."""
    base, auth = stack.url("GRAFANA_PORT"), stack.grafana_auth()
    hits = requests.get(f"{base}/api/search", params={"type": "dash-db"}, auth=auth, timeout=10)
    hits.raise_for_status()
    models = []
    for hit in hits.json():
        reply = requests.get(f"{base}/api/dashboards/uid/{hit['uid']}", auth=auth, timeout=10)
        reply.raise_for_status()
        models.append(reply.json()["dashboard"])
    return models


@pytest.fixture(scope="module")
def existing(stack: Stack, time_range: TimeRange) -> Existing:
    buckets = {stack.settings.str("INFLUX_BUCKET"), stack.settings.str("INFLUX_PIPELINE_BUCKET")}
    held = {bucket: points_by_field(stack, bucket, time_range) for bucket in sorted(buckets)}
    for bucket, measurements in held.items():
        log(f"bucket {bucket} holds, in the last {TIME_RANGE}: " + ", ".join(
            f"{m} ({sum(fields.values())} values)" for m, fields in sorted(measurements.items())
        ))  # fmt: skip
    return held


@pytest.fixture(scope="module")
def outcomes(
    stack: Stack, dashboards: list[dict[str, Any]], time_range: TimeRange, existing: Existing
) -> list[Outcome]:
    results = [o for model in dashboards for o in run_dashboard(stack, model, time_range, existing)]
    report(results)
    return results


def points_by_field(stack: Stack, bucket: str, time_range: TimeRange) -> dict[str, dict[str, int]]:
    start, stop = rfc3339_nano(time_range.start), rfc3339_nano(time_range.stop)
    flux = (
        f'from(bucket: "{bucket}") |> range(start: {start}, stop: {stop}) '
        '|> group(columns: ["_measurement", "_field"]) |> count()'
    )
    held: dict[str, dict[str, int]] = {}
    for row in stack.flux_rows(flux):
        held.setdefault(row["_measurement"], {})[row["_field"]] = int(row["_value"])
    return held


def run_dashboard(
    stack: Stack, model: Mapping[str, Any], time_range: TimeRange, existing: Existing
) -> list[Outcome]:
    results: list[Outcome] = []
    variables = {q.name: q for q in variable_queries(model)}

    def answer(name: str, text: str) -> list[str]:
        outcome, rows = run(stack, variables[name], text, time_range, existing)
        results.append(outcome)
        return sorted({row["_value"] for row in rows})

    values = variable_values(model, answer)
    for query in [*panel_queries(model), *annotation_queries(model)]:
        results.append(run(stack, query, substitute_variables(query.text, values), time_range,
                           existing)[0])  # fmt: skip
    return results


def run(
    stack: Stack, query: Query, text: str, time_range: TimeRange, existing: Existing
) -> tuple[Outcome, list[dict[str, str]]]:
    """One query, its variables already substituted: Grafana's macros, then InfluxDB."""
    flux = interpolate_macros(text, time_range)
    reply = stack.flux_reply(flux)
    rows = csv_rows(reply.text) if reply.status_code == 200 else []
    error = "" if reply.status_code == 200 else reply.text[:300]
    if rows and list(rows[0]) == IN_BAND_ERROR:
        error, rows = rows[0]["error"], []
    outcome = Outcome(
        query, flux, reply.status_code, len(rows), error, expects_rows(flux, existing)
    )
    return outcome, rows


def expects_rows(flux: str, existing: Existing) -> bool:
    """The query names a measurement that has points, and (if it names fields) one of them."""
    reads = Reads.of(flux)
    held = existing.get(reads.bucket or "", {})
    return any(
        m in held and (not reads.fields or bool(reads.fields & set(held[m])))
        for m in reads.measurements
    )


def report(results: list[Outcome]) -> None:
    """A table of query -> rows, printed and kept in the artifacts."""
    lines = [f"{'dashboard':24} {'kind':10} {'query':46} {'HTTP':>4} {'rows':>6}  data?"]
    for o in results:
        name = o.query.name if len(o.query.name) <= 46 else o.query.name[:43] + "..."
        mark = ("has points" if o.expected else "none") + (f"  ERROR {o.error}" if o.error else "")
        lines.append(
            f"{o.query.dashboard:24} {o.query.kind:10} {name:46} {o.status:>4} {o.rows:>6}  {mark}"
        )
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    log(f"{len(results)} queries; table in {REPORT}")


def describe(o: Outcome) -> str:
    return (
        f"{o.query.dashboard} / {o.query.kind} {o.query.name!r}: {o.error or 'no rows'}\n{o.flux}"
    )


def test_every_imported_dashboard_has_queries(dashboards: list[dict[str, Any]], outcomes) -> None:
    uids = {model["uid"] for model in dashboards}
    assert "streamlab-pipeline" in uids
    without = uids - {o.query.dashboard for o in outcomes}
    assert not without, f"dashboards without a Flux query: {sorted(without)}"


def test_every_dashboard_query_succeeds(outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.failed]
    log(f"{len(outcomes) - len(failed)} of {len(outcomes)} queries answered HTTP 200")
    assert not failed, "\n\n".join(describe(o) for o in failed)


def test_queries_over_existing_data_return_rows(outcomes: list[Outcome]) -> None:
    expected = [o for o in outcomes if o.expected and not o.failed]
    empty = [o for o in expected if o.rows == 0]
    log(f"{len(expected) - len(empty)} of {len(expected)} queries over existing points gave rows")
    assert expected, "no query reads a measurement that has points: did the pipeline write?"
    assert not empty, "\n\n".join(describe(o) for o in empty)
