#!/usr/bin/env bash
# Run your own PySpark file on the stack's cluster (YARN in the full profile, the standalone
# master in lite), from the spark image: the driver runs in a container of its own
# (streamlab-submit-NAME), its output streams here, Ctrl-C stops it.
#   ./submit.sh FILE.py [ARGS...]            run FILE.py (any folder) with ARGS
#   ./submit.sh --name NAME FILE.py ...      name the job (default: the file's name, no .py)
#   ./submit.sh --executors N FILE.py ...    N executors (default: SPARK_EXECUTOR_INSTANCES
#                                            on YARN, SPARK_CORES_MAX cores on lite)
#   ./submit.sh --conf KEY=VALUE FILE.py     any Spark setting (repeatable)
#   ./submit.sh --list                       the running jobs, and the cluster's applications
#   ./submit.sh --kill NAME                  stop the job NAME
#   ./submit.sh --help
# The job gets the stack's addresses as environment variables (SPARK_KAFKA_BOOTSTRAP,
# RAW_LAYER_URI, CHECKPOINT_URI = its own checkpoint root, INFLUX_URL, INFLUX_ORG,
# INFLUX_BUCKET, INFLUX_PIPELINE_BUCKET, INFLUX_WRITE_TOKEN_FILE, DATASETS_DIR) and the repo's
# jobs/ at /opt/streamlab/jobs: see README "Run your own job".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "${ROOT}"
USER_DIR=/opt/streamlab/user
PROJECT_LABEL="com.docker.compose.project=streamlab"
SERVICE_LABEL="com.docker.compose.service=submit"
CONTAINER_PREFIX="streamlab-submit-"

say() { printf '[submit] %s\n' "$*" >&2; }
die() { printf '[submit] error: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }
setting() { sed -n "s/^$1=//p" settings.env | tail -n 1; }
value() { local v="${!1:-}"; echo "${v:-$(setting "$1")}"; }
profile_setting() { sed -n "s/^$1=//p" "compose/profiles/${profile}.env" | tail -n 1; }

current_profile() {
  local chosen="${STREAMLAB_PROFILE:-}"
  if [ -z "${chosen}" ] && [ -f .secrets/profile ]; then
    chosen="$(cat .secrets/profile)"
  fi
  echo "${chosen:-$(setting STREAMLAB_PROFILE)}"
}

# A job's name: a container name, a host name executors reach the driver by, a YARN tag.
job_name() {
  local name
  name="$(printf '%s' "$1" | tr '[:upper:]_. ' '[:lower:]---' | tr -cd 'a-z0-9-')"
  name="${name#"${name%%[!-]*}"}"
  echo "${name%"${name##*[!-]}"}"
}

need_docker() {
  command -v docker >/dev/null 2>&1 || die "docker is not installed: install Docker (https://docs.docker.com/get-docker/), then ./build_setup.sh"
  docker info >/dev/null 2>&1 || die "the Docker engine does not answer: start Docker, then run ./submit.sh again"
}

# The stack is up when the profile's cluster manager is healthy.
need_stack() {
  local cluster status
  if [ ! -f .secrets/streamlab.env ]; then
    die "the stack is not up: start it with ./build_setup.sh, then run ./submit.sh again"
  fi
  cluster="resourcemanager"
  [ "${profile}" = "lite" ] && cluster="spark-master"
  status="$(./compose.sh ps --format '{{.Service}} {{.Health}}' "${cluster}" 2>/dev/null \
    | awk -v s="${cluster}" '$1 == s { print $2; exit }')" || true
  if [ "${status}" != "healthy" ]; then
    die "the stack is not up (${cluster} is ${status:-not running}; profile ${profile}): start it with ./build_setup.sh${profile_option}, then run ./submit.sh again"
  fi
}

running_jobs() {
  docker ps --filter "label=${PROJECT_LABEL}" --filter "label=${SERVICE_LABEL}" \
    --format '{{.Names}}	{{.Status}}'
}

# On Linux a bind mount keeps the host's permissions: the image's user (uid 185) reads the
# file if others may read it and search every folder above it. (Docker Desktop maps them.)
readable_in_container() {
  local path="$1"
  [ "$(uname -s)" = "Linux" ] || return 0
  [ -n "$(find "${path}" -maxdepth 0 -perm -o=r 2>/dev/null)" ] || return 1
  path="$(dirname "${path}")"
  while [ "${path}" != "/" ]; do
    [ -n "$(find "${path}" -maxdepth 0 -perm -o=x 2>/dev/null)" ] || return 1
    path="$(dirname "${path}")"
  done
}

free_port() {
  local address="$1" port="$2" last=$(($2 + 9))
  while [ "${port}" -le "${last}" ]; do
    if ! (exec 3<>"/dev/tcp/${address}/${port}") 2>/dev/null; then
      echo "${port}"
      return
    fi
    port=$((port + 1))
  done
  return 1
}

# --- --list ------------------------------------------------------------------------------

# The cluster's applications, newest first: from the ResourceManager's REST API (full) or
# the standalone master's JSON (lite), read inside its container.
cluster_apps() {
  if [ "${profile}" = "full" ]; then
    ./compose.sh exec -T resourcemanager python3 - <<'PY'
import json, urllib.request
from datetime import datetime
reply = json.load(urllib.request.urlopen("http://localhost:8088/ws/v1/cluster/apps", timeout=10))
apps = sorted((reply.get("apps") or {}).get("app", []), key=lambda a: -a["startedTime"])
print(f"  {'JOB':18} {'APPLICATION':32} {'STATE':9} {'FINAL':10} {'STARTED (UTC)':13} NAME")
for app in apps[:20]:
    tags = (app.get("applicationTags") or "").split(",")
    job = next((t[len("streamlab-job-"):] for t in tags if t.startswith("streamlab-job-")), "")
    job = job or ("(the stack's job)" if app["name"] == "streamlab" else "-")
    started = datetime.fromtimestamp(app["startedTime"] / 1000).strftime("%H:%M:%S")
    print(f"  {job:18} {app['id']:32} {app['state']:9} {app['finalStatus']:10} {started:13} {app['name']}")
if not apps:
    print("  none")
PY
  else
    ./compose.sh exec -T spark-master python3 - <<'PY'
import json, urllib.request
from datetime import datetime
master = json.load(urllib.request.urlopen("http://localhost:8080/json/", timeout=10))
apps = master.get("activeapps", []) + master.get("completedapps", [])
apps.sort(key=lambda a: -a["starttime"])
print(f"  {'APPLICATION':26} {'STATE':9} {'CORES':5} {'STARTED (UTC)':13} NAME")
for app in apps[:20]:
    started = datetime.fromtimestamp(app["starttime"] / 1000).strftime("%H:%M:%S")
    print(f"  {app['id']:26} {app['state']:9} {app['cores']:<5} {started:13} {app['name']}")
if not apps:
    print("  none")
PY
  fi
}

list_jobs() {
  local jobs
  jobs="$(running_jobs)"
  echo "Jobs started by ./submit.sh, running (stop one with ./submit.sh --kill NAME):"
  if [ -z "${jobs}" ]; then
    echo "  none"
  else
    printf '  %-24s %s\n' NAME STATUS
    printf '%s\n' "${jobs}" | while IFS=$'\t' read -r container status; do
      printf '  %-24s %s\n' "${container#"${CONTAINER_PREFIX}"}" "${status}"
    done
  fi
  if [ "${profile}" = "full" ]; then
    echo "YARN applications (http://$(value BIND_ADDRESS):$(value YARN_RESOURCEMANAGER_HTTP_PORT)):"
  else
    echo "Spark standalone applications (http://$(value BIND_ADDRESS):$(value SPARK_MASTER_UI_PORT)):"
  fi
  cluster_apps || say "could not read the cluster's applications: is the stack up? (./compose.sh ps)"
}

# --- --kill ------------------------------------------------------------------------------

# Ids of the job's YARN applications that have not ended (tagged streamlab-job-NAME).
yarn_apps_of() {
  ./compose.sh exec -T resourcemanager python3 - "$1" <<'PY'
import json, sys, urllib.request
url = ("http://localhost:8088/ws/v1/cluster/apps?states=NEW,NEW_SAVING,SUBMITTED,ACCEPTED,RUNNING"
       f"&applicationTags=streamlab-job-{sys.argv[1]}")
reply = json.load(urllib.request.urlopen(url, timeout=10))
for app in (reply.get("apps") or {}).get("app", []):
    print(app["id"])
PY
}

kill_job() {
  local name container found=0 app
  name="$(job_name "$1")"
  [ -n "${name}" ] || die "--kill needs a job's name: ./submit.sh --list shows them"
  container="${CONTAINER_PREFIX}${name}"
  if docker ps -q --filter "name=^${container}\$" | grep -q .; then
    found=1
    say "stopping ${name}: its driver stops the application (up to 60 s)"
    docker stop --time 60 "${container}" >/dev/null
    # The terminal that started it removes the container (run --rm); if that terminal is
    # gone, remove it here.
    for _ in $(seq 1 10); do
      docker ps -aq --filter "name=^${container}\$" | grep -q . || break
      sleep 1
    done
    docker rm -f "${container}" >/dev/null 2>&1 || true
  fi
  if [ "${profile}" = "full" ]; then
    for app in $(yarn_apps_of "${name}"); do
      found=1
      say "killing the YARN application ${app} of ${name}"
      ./compose.sh exec -T resourcemanager yarn application -kill "${app}" >/dev/null
    done
  fi
  [ "${found}" -eq 1 ] || die "no job named ${name} is running: ./submit.sh --list shows the running ones"
  say "${name} stopped"
}

# --- submit ------------------------------------------------------------------------------

submit_job() {
  local file="$1" name="$2"
  shift 2
  local dir base container image ui_port address executor_cores
  [ -e "${file}" ] || die "${file}: no such file: give the path of your PySpark file, e.g. ./submit.sh jobs/examples/template.py"
  if [ ! -f "${file}" ] || [ ! -r "${file}" ]; then
    die "${file} is not a readable file: give the path of your PySpark file"
  fi
  case "${file}" in
    *.py) ;;
    *) die "${file}: a PySpark job is a .py file (spark-submit runs Python by that suffix): rename it" ;;
  esac
  dir="$(cd "$(dirname "${file}")" && pwd)"
  base="$(basename "${file}")"
  case "${dir}" in
    *:*) die "${dir} holds a ':', which Docker's volume syntax cannot mount: move the file elsewhere" ;;
  esac
  if ! readable_in_container "${dir}/${base}"; then
    # The driver runs as the image's user (uid 185): it reads the file through the mount only
    # if everyone may. Run a copy instead (files beside it cannot be imported then).
    staged="$(mktemp -d "${TMPDIR:-/tmp}/streamlab-submit.XXXXXX")"
    cp "${file}" "${staged}/${base}"
    chmod 755 "${staged}"
    chmod 644 "${staged}/${base}"
    say "${file} or a folder above it is not readable by everyone, as the container's user (uid 185) needs: running a copy (chmod o+r the file and o+x its folders to import files beside it)"
    dir="${staged}"
  fi
  if [ -z "${name}" ]; then
    name="$(job_name "${base%.py}")"
    [ -n "${name}" ] || die "cannot name the job after ${base}: give one with --name NAME"
  fi
  container="${CONTAINER_PREFIX}${name}"

  need_stack
  image="streamlab/spark:$(value SPARK_VERSION)"
  docker image inspect "${image}" >/dev/null 2>&1 \
    || die "the image ${image} is missing: run ./build_setup.sh (it builds it)"
  if docker ps -q --filter "name=^${container}\$" | grep -q .; then
    die "a job named ${name} is already running: stop it with ./submit.sh --kill ${name}, or give this one another --name"
  fi
  # A container left by a terminal that went away: not running, so safe to remove.
  docker rm -f "${container}" >/dev/null 2>&1 || true

  export SUBMIT_JOB_NAME="${name}"
  if [ -n "${executors}" ]; then
    if [ "${profile}" = "lite" ]; then
      executor_cores="$(profile_setting STACK_SPARK_EXECUTOR_CORES)"
      export SUBMIT_CORES_MAX=$((executors * ${executor_cores:-1}))
    else
      export SUBMIT_EXECUTORS="${executors}"
    fi
  fi
  local -a run=(run --rm --no-deps --name "${container}"
    --volume "${dir}:${USER_DIR}:ro" --env "SUBMIT_FILE_SHOWN=${file}")
  address="$(value BIND_ADDRESS)"
  say "${name}: ${file} on the ${profile} profile's cluster; Ctrl-C or ./submit.sh --kill ${name} stops it"
  if [ "${profile}" = "lite" ]; then
    if ui_port="$(free_port "${address}" "$(value SUBMIT_UI_PORT)")"; then
      run+=(--publish "${address}:${ui_port}:4040")
      say "${name}: its Spark UI: http://${address}:${ui_port} while it runs; the master's: http://${address}:$(value SPARK_MASTER_UI_PORT)"
    else
      say "${name}: no free port from SUBMIT_UI_PORT=$(value SUBMIT_UI_PORT) for its Spark UI; the master's UI: http://${address}:$(value SPARK_MASTER_UI_PORT)"
    fi
  else
    say "${name}: YARN: http://${address}:$(value YARN_RESOURCEMANAGER_HTTP_PORT) (the application tagged streamlab-job-${name}; its Spark UI: 'ApplicationMaster')"
  fi
  local -a spark=(--name "${name}"
    --conf "spark.yarn.tags=streamlab-submit,streamlab-job-${name}")
  for conf in "${confs[@]}"; do
    spark+=(--conf "${conf}")
  done
  # In a terminal, Ctrl-C goes through the container's terminal to the driver, which stops
  # the application. Without one (a script, CI), SIGINT or SIGTERM ends `docker compose run`
  # but not the container: the driver is then stopped here, the same way as --kill.
  local status=0
  trap 'interrupted=1' INT TERM
  ./compose.sh "${run[@]}" submit submit "${spark[@]}" -- "${USER_DIR}/${base}" "$@" || status=$?
  trap - INT TERM
  if docker ps -q --filter "name=^${container}\$" | grep -q .; then
    say "stopping ${name}: its driver stops the application"
    docker stop --time 60 "${container}" >/dev/null 2>&1 || true
    status=130
  fi
  docker rm -f "${container}" >/dev/null 2>&1 || true
  if [ "${interrupted}" -eq 1 ] && [ "${status}" -eq 0 ]; then
    status=130
  fi
  exit "${status}"
}

# --- main --------------------------------------------------------------------------------

action=submit name="" executors="" kill_name="" interrupted=0 staged=""
trap '[ -z "${staged}" ] || rm -rf "${staged}"' EXIT
confs=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --list) action="list"; shift ;;
    --kill) [ "$#" -ge 2 ] || die "--kill needs the job's name: ./submit.sh --list shows them"; action="kill"; kill_name="$2"; shift 2 ;;
    --kill=*) action="kill"; kill_name="${1#*=}"; shift ;;
    --name) [ "$#" -ge 2 ] || die "--name needs a value, e.g. --name my-job"; name="$2"; shift 2 ;;
    --name=*) name="${1#*=}"; shift ;;
    --executors) [ "$#" -ge 2 ] || die "--executors needs a number, e.g. --executors 2"; executors="$2"; shift 2 ;;
    --executors=*) executors="${1#*=}"; shift ;;
    --conf) [ "$#" -ge 2 ] || die "--conf needs KEY=VALUE, e.g. --conf spark.executor.memory=1g"; confs+=("$2"); shift 2 ;;
    --conf=*) confs+=("${1#*=}"); shift ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see ./submit.sh --help)" ;;
    *) break ;;
  esac
done

profile="$(current_profile)"
[ -f "compose/profiles/${profile}.env" ] || die "unknown profile '${profile}': use full or lite"
profile_option=""
[ "${profile}" = "lite" ] && profile_option=" --profile lite"
if [ -n "${name}" ]; then
  [[ ${name} =~ ^[a-z0-9][a-z0-9-]*$ ]] \
    || die "--name ${name}: use lowercase letters, digits and '-' (it names a container and a host), e.g. --name my-job"
fi
if [ -n "${executors}" ] && ! [[ ${executors} =~ ^[1-9][0-9]*$ ]]; then
  die "--executors must be a whole number of 1 or more, got '${executors}'"
fi
for conf in "${confs[@]}"; do
  [[ ${conf} == ?*=* ]] || die "--conf ${conf}: give KEY=VALUE, e.g. --conf spark.executor.memory=1g"
done

case "${action}" in
  list) need_docker; list_jobs ;;
  kill) need_docker; kill_job "${kill_name}" ;;
  submit)
    [ "$#" -ge 1 ] || die "give the PySpark file to run, e.g. ./submit.sh jobs/examples/template.py (./submit.sh --help)"
    file="$1"
    shift
    [ -e "${file}" ] || die "${file}: no such file: give the path of your PySpark file, e.g. ./submit.sh jobs/examples/template.py"
    need_docker
    submit_job "${file}" "${name}" "$@"
    ;;
esac
