#!/usr/bin/env bash
# One-command bring-up of the StreamLab stack.
# The compose stack (images, compose/, provisioning) is not in this revision yet: this script
# says so instead of pretending. Today you can run the tests (./tests/run.sh) and the
# streamer against any Kafka broker (see README.md, "Run the streamer on its own").
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,5s/^# \{0,1\}//p' "$0"
  exit 0
fi

if [ ! -d compose ] || [ -z "$(ls -A compose 2>/dev/null)" ]; then
  cat >&2 <<'MSG'
build_setup: the Docker Compose stack is not part of this revision yet.
  It arrives with the compose platform work (images/, compose/, provisioning/).
  What works now:
    ./tests/run.sh                        unit + integration tests on real Kafka
    bench/run.sh streamer                 the streamer's throughput and rate accuracy
    python -m streamer (in .venv)         the streamer against KAFKA_BOOTSTRAP_SERVERS
MSG
  exit 1
fi
