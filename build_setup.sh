#!/usr/bin/env bash
# One-command bring-up of the StreamLab stack: check prerequisites, generate secrets once,
# build the images, start everything healthy, wait for provisioning, print the URLs.
#   ./build_setup.sh                 the full stack (HDFS + YARN, the Spark job on YARN)
#   ./build_setup.sh --profile lite  no Hadoop: Spark standalone with SPARK_WORKERS workers
#   ./build_setup.sh --nodemanagers N --datanodes N   N YARN NodeManagers / HDFS DataNodes
#                                    (full profile; default YARN_NODEMANAGERS, HDFS_DATANODES)
#   ./build_setup.sh --no-build      start with the images already built
#   ./build_setup.sh --help
# Safe to re-run on a running stack: it changes only what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "${ROOT}"
SECRETS_DIR="${ROOT}/.secrets"
SECRETS_FILE="${SECRETS_DIR}/streamlab.env"
# The scale of this bring-up, for compose.sh's later calls (they must not undo it).
SCALE_FILE="${SECRETS_DIR}/scale.env"
API_KEYS_FILE="${SECRETS_DIR}/api-keys.env"
MIN_COMPOSE="2.24.0"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
setting() { sed -n "s/^$1=//p" settings.env | tail -n 1; }
value() { local v="${!1:-}"; echo "${v:-$(setting "$1")}"; }

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }

profile="$(value STREAMLAB_PROFILE)"
nodemanagers="$(value YARN_NODEMANAGERS)"
datanodes="$(value HDFS_DATANODES)"
build=1
while [ "$#" -gt 0 ]; do
  case "$1" in
    --profile) [ "$#" -ge 2 ] || die "--profile needs a value: full or lite"; profile="$2"; shift 2 ;;
    --profile=*) profile="${1#*=}"; shift ;;
    --nodemanagers) [ "$#" -ge 2 ] || die "--nodemanagers needs a number, e.g. --nodemanagers 2"; nodemanagers="$2"; shift 2 ;;
    --nodemanagers=*) nodemanagers="${1#*=}"; shift ;;
    --datanodes) [ "$#" -ge 2 ] || die "--datanodes needs a number, e.g. --datanodes 2"; datanodes="$2"; shift 2 ;;
    --datanodes=*) datanodes="${1#*=}"; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see ./build_setup.sh --help)" ;;
  esac
done
[ -f "compose/profiles/${profile}.env" ] || die "unknown profile '${profile}': use full or lite"
for scale in "nodemanagers=${nodemanagers}" "datanodes=${datanodes}"; do
  [[ ${scale#*=} =~ ^[1-9][0-9]*$ ]] \
    || die "--${scale%%=*} must be a whole number of 1 or more, got '${scale#*=}' (settings.env: YARN_NODEMANAGERS, HDFS_DATANODES)"
done
# compose reads them from the environment (over settings.env) in this script's calls.
export YARN_NODEMANAGERS="${nodemanagers}" HDFS_DATANODES="${datanodes}"

version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

check_docker() {
  command -v docker >/dev/null 2>&1 \
    || die "docker is not installed: install Docker Engine or Docker Desktop (https://docs.docker.com/get-docker/)"
  docker info >/dev/null 2>&1 \
    || die "the Docker engine does not answer: start Docker (Linux: sudo systemctl start docker; add your user to the docker group)"
  local compose
  compose="$(docker compose version --short 2>/dev/null || true)"
  [ -n "${compose}" ] || die "Docker Compose v2 is missing: install the docker-compose-plugin package"
  version_at_least "${compose#v}" "${MIN_COMPOSE}" \
    || die "Docker Compose ${compose} is too old: ${MIN_COMPOSE} or newer is needed (secrets from the environment)"
  say "docker $(docker version --format '{{.Server.Version}}'), compose ${compose}"
}

check_memory() {
  # 6 GiB for the full stack, plus about 1 GiB per more NodeManager (its executors) and
  # 0.5 GiB per more DataNode; README "Scaling" has the measured figures.
  local bytes need_mib=$((6 * 1024))
  if [ "${profile}" = "lite" ]; then
    need_mib=$((4 * 1024))
  else
    need_mib=$((need_mib + (nodemanagers - 1) * 1024 + (datanodes - 1) * 512))
  fi
  bytes="$(docker info --format '{{.MemTotal}}' 2>/dev/null || echo 0)"
  if [ "${bytes}" -lt $((need_mib * 1024 * 1024)) ]; then
    say "warning: Docker has $((bytes / 1024 / 1024)) MiB of memory; the ${profile} profile wants ${need_mib} MiB."
    say "         Give Docker more memory (Docker Desktop: Settings > Resources), use fewer --nodemanagers/--datanodes, or --profile lite."
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

check_ports() {
  if [ -n "$(./compose.sh ps -q 2>/dev/null)" ]; then
    say "the stack is already running: keeping its ports"
    return
  fi
  local address names busy=()
  address="$(value BIND_ADDRESS)"
  names=(KAFKA_PORT GRAFANA_PORT INFLUXDB_PORT STREAMER_PORT SPARK_UI_PORT)
  if [ "${profile}" = "full" ]; then
    names+=(HDFS_NAMENODE_HTTP_PORT YARN_RESOURCEMANAGER_HTTP_PORT)
  else
    names+=(SPARK_MASTER_UI_PORT)
  fi
  for name in "${names[@]}"; do
    if port_in_use "${address}" "$(value "${name}")"; then
      busy+=("${name}=$(value "${name}")")
    fi
  done
  [ "${#busy[@]}" -eq 0 ] \
    || die "ports in use on ${address}: ${busy[*]}. Stop what uses them, or set other ports in settings.env"
}

random_secret() {
  # 32 random bytes, URL-safe base64: fine in env files, URLs and shells.
  head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

generate_secrets() {
  mkdir -p "${SECRETS_DIR}"
  chmod 700 "${SECRETS_DIR}"
  if [ -f "${SECRETS_FILE}" ]; then
    say "secrets: keeping ${SECRETS_FILE#"${ROOT}/"}"
  else
    (
      umask 077
      {
        echo "# Generated by build_setup.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Never committed."
        echo "# Change a value before the first bring-up, or run ./clean.sh --all and start again."
        echo "INFLUXDB_ADMIN_PASSWORD=$(random_secret)"
        echo "INFLUXDB_ADMIN_TOKEN=$(random_secret)"
        echo "GRAFANA_ADMIN_PASSWORD=$(random_secret)"
      } >"${SECRETS_FILE}.tmp"
      mv "${SECRETS_FILE}.tmp" "${SECRETS_FILE}"
    )
    say "secrets: generated ${SECRETS_FILE#"${ROOT}/"} (mode 0600)"
  fi
  chmod 600 "${SECRETS_FILE}"
  if [ ! -f "${API_KEYS_FILE}" ]; then
    (
      umask 077
      echo "# API keys that http dataset specs name in headers as \${VAR}, e.g. IDFM_API_KEY=..." \
        >"${API_KEYS_FILE}"
    )
    say "secrets: created ${API_KEYS_FILE#"${ROOT}/"} for your API keys (mode 0600, empty)"
  fi
  chmod 600 "${API_KEYS_FILE}"
  echo "${profile}" >"${SECRETS_DIR}/profile"
  {
    echo "# Written by build_setup.sh at each run: the scale compose.sh keeps."
    echo "YARN_NODEMANAGERS=${nodemanagers}"
    echo "HDFS_DATANODES=${datanodes}"
  } >"${SCALE_FILE}"
}

build_images() {
  if [ "${build}" -eq 0 ]; then
    say "images: not building (--no-build)"
    return
  fi
  say "images: building (the first build downloads JDKs, jars and wheels: several minutes)"
  ./compose.sh build || die "an image failed to build: the lines above name the image and step"
}

start_stack() {
  say "starting the ${profile} stack; waiting for every service to be healthy"
  if ! ./compose.sh up -d --wait --wait-timeout "$(value STACK_WAIT_TIMEOUT_S)" --remove-orphans; then
    ./compose.sh ps -a --format 'table {{.Service}}\t{{.State}}\t{{.Status}}' >&2 || true
    die "the stack did not start or did not become healthy (the lines above say which service). See its logs:
       ./compose.sh logs <service>   (memory: docker stats; ports: settings.env)"
  fi
  local id code started
  id="$(./compose.sh ps -aq provisioner)"
  code="$(docker inspect --format '{{.State.ExitCode}}' "${id}")"
  started="$(docker inspect --format '{{.State.StartedAt}}' "${id}")"
  # The one-shot container is reused by each run: show this run's report only.
  docker logs --since "${started}" "${id}" 2>&1 | sed 's/^/[provisioner] /'
  [ "${code}" = "0" ] || die "provisioning failed (exit ${code}): the lines above name the service and the fix"
}

print_urls() {
  local address grafana_user grafana_password scale_note=""
  if [ "${profile}" = "full" ]; then
    scale_note=", ${nodemanagers} NodeManager(s), ${datanodes} DataNode(s)"
  fi
  address="$(value BIND_ADDRESS)"
  grafana_user="$(value GRAFANA_ADMIN_USER)"
  grafana_password="$(sed -n 's/^GRAFANA_ADMIN_PASSWORD=//p' "${SECRETS_FILE}")"
  ./compose.sh ps --format 'table {{.Service}}\t{{.Status}}'
  cat <<MSG

StreamLab is up (${profile} profile${scale_note}).
  Grafana          http://${address}:$(value GRAFANA_PORT)   login: ${grafana_user} / ${grafana_password}
  Streamer API     http://${address}:$(value STREAMER_PORT)/streams   (./set_rate.sh temps 200)
  InfluxDB         http://${address}:$(value INFLUXDB_PORT)   (admin token: .secrets/streamlab.env)
  Spark job UI     http://${address}:$(value SPARK_UI_PORT)
  Kafka            ${address}:$(value KAFKA_PORT) from the host, $(value KAFKA_INTERNAL_BOOTSTRAP) from containers
MSG
  if [ "${profile}" = "full" ]; then
    cat <<MSG
  HDFS NameNode    http://${address}:$(value HDFS_NAMENODE_HTTP_PORT)   (./compose.sh exec namenode hdfs dfs -ls /streamlab)
  YARN             http://${address}:$(value YARN_RESOURCEMANAGER_HTTP_PORT)   (./compose.sh exec resourcemanager yarn node -list)
MSG
  else
    echo "  Spark master     http://${address}:$(value SPARK_MASTER_UI_PORT)"
  fi
  echo "Run your own Spark job: ./submit.sh jobs/examples/template.py   (./submit.sh --help)"
  echo "Tear down with ./clean.sh"
}

check_docker
check_memory
generate_secrets
check_ports
build_images
start_stack
print_urls
