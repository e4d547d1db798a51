#!/usr/bin/env bash
# Healthcheck by role: master and worker answer on their web UI; the job driver has a running
# application whose queries have all started and which has an executor.
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
    # The job writes SPARKJOB_READY_FILE once every query has started; its application must
    # also have an executor, or no batch can run (YARN or the workers have no room).
    if [ -n "${SPARKJOB_READY_FILE:-}" ] && [ ! -f "${SPARKJOB_READY_FILE}" ]; then
      echo "the job has not started all its queries yet" >&2
      exit 1
    fi
    python3 - <<'PY'
import json, sys, urllib.request

def get(path):
    try:
        with urllib.request.urlopen(f"http://localhost:4040/api/v1/{path}", timeout=4) as reply:
            return json.load(reply)
    except OSError as error:
        sys.exit(f"the driver's UI (4040) does not answer: {error}")

apps = get("applications")
if not apps:
    sys.exit("no Spark application runs in this driver")
executors = get(f"applications/{apps[0]['id']}/executors")
if not any(e["id"] != "driver" and e.get("isActive") for e in executors):
    sys.exit("the application has no executor yet: does YARN (or the workers) have room?")
PY
    ;;
  *) echo "unhealthy: unknown role $1: use healthcheck master, worker or job" >&2; exit 1 ;;
esac
