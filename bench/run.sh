#!/usr/bin/env bash
# Benchmarks: bench/run.sh streamer|spark|datasets|stack|startup. Each prints progress to stderr and one
# JSON object last.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: bench/run.sh streamer|spark|datasets|stack|startup" >&2
  echo "  streamer  streamer rows/s vs a naive loop and Kafka's Java producer, rate accuracy" >&2
  echo "  spark     Spark to the real InfluxDB: the job vs influxdb-client alone and per row; the" >&2
  echo "            cars example through derive, lookups, alerts and an aggregation; latency" >&2
  echo "  datasets  what a dataset costs the Spark job: its CPU with 1 and 10 datasets, idle and" >&2
  echo "            trickling (a few rows/s each)" >&2
  echo "  stack     the compose stack (needs Docker; CI: .ci/prepare_docker.sh): rate steps, lag," >&2
  echo "            latency, up to the first point, peak memory; tears the stack down at the end" >&2
  echo "  startup   up to the first point and its critical path, then the same after the Spark" >&2
  echo "            job's SIGKILL; tears the stack down at the end" >&2
}

if [ "$#" -ne 1 ]; then usage; exit 2; fi
if [ ! -x .venv/bin/python ]; then
  echo "bench: no .venv yet: run ./tests/run.sh once (it installs what benchmarks need too)" >&2
  exit 2
fi

case "$1" in
  streamer) exec .venv/bin/python bench/streamer_bench.py ;;
  spark | datasets)
    # The real InfluxDB the tests use: $INFLUXD, or the one tests/harness/influxd.sh finds.
    INFLUXD="${INFLUXD:-$(tests/harness/influxd.sh)}" || exit 2
    export INFLUXD
    exec .venv/bin/python "bench/$1_bench.py"
    ;;
  stack | startup)
    ROOT="$(pwd)"
    say() { printf '[bench stack] %s\n' "$*" >&2; }
    die() { printf '[bench stack] error: %s\n' "$*" >&2; exit 2; }
    setting() { sed -n "s/^$1=//p" settings.env | tail -n 1; }
    docker info >/dev/null 2>&1 || die "no Docker engine answers (CI: .ci/prepare_docker.sh)"
    # shellcheck source=tests/e2e/images.sh
    source tests/e2e/images.sh
    choose_influxdb_grafana_images
    ./clean.sh --yes >/dev/null
    trap './clean.sh --yes >/dev/null 2>&1 || true' EXIT
    if [ "$1" = "startup" ]; then
      .venv/bin/python bench/stack_bench.py --startup
    else
      .venv/bin/python bench/stack_bench.py
    fi
    ;;
  *) usage; exit 2 ;;
esac
