#!/usr/bin/env bash
# Healthcheck by role: master and worker answer on their web UI; the job driver has a running
# application whose queries have all processed a batch.
set -euo pipefail

get() {
  python3 - "$1" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=4) as reply:
    print(json.dumps(json.load(reply)))
PY
}

case "${1:-job}" in
  master) get "http://localhost:${SPARK_MASTER_WEBUI_PORT:-8080}/json/" | grep -q '"status": "ALIVE"' ;;
  worker) get "http://localhost:${SPARK_WORKER_WEBUI_PORT:-8081}/json/" >/dev/null ;;
  job)
    # The job writes SPARKJOB_READY_FILE once every query has processed its first batch.
    if [ -n "${SPARKJOB_READY_FILE:-}" ] && [ ! -f "${SPARKJOB_READY_FILE}" ]; then
      echo "the job's queries have not all processed a batch yet" >&2
      exit 1
    fi
    get http://localhost:4040/api/v1/applications | grep -q '"id"'
    ;;
  *) echo "unhealthy: unknown role $1: use healthcheck master, worker or job" >&2; exit 1 ;;
esac
