#!/usr/bin/env bash
# `docker compose` for this project, with what every call needs: settings.env, the profile's
# wiring, the generated secrets and any override files.
#   ./compose.sh ps | logs -f spark-job | exec kafka kafka-topics --bootstrap-server kafka:29092 --list
# Environment: STREAMLAB_PROFILE (full | lite; default: the one build_setup.sh last used,
# else settings.env), STREAMLAB_COMPOSE_OVERRIDES (colon-separated extra compose files).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
SECRETS_FILE="${ROOT}/.secrets/streamlab.env"
PROFILE_FILE="${ROOT}/.secrets/profile"
SCALE_FILE="${ROOT}/.secrets/scale.env"

setting() {
  sed -n "s/^$1=//p" "${ROOT}/settings.env" | tail -n 1
}

profile="${STREAMLAB_PROFILE:-}"
if [ -z "${profile}" ] && [ -f "${PROFILE_FILE}" ]; then
  profile="$(cat "${PROFILE_FILE}")"
fi
profile="${profile:-$(setting STREAMLAB_PROFILE)}"
if [ ! -f "${ROOT}/compose/profiles/${profile}.env" ]; then
  echo "compose.sh: unknown profile '${profile}': use full or lite" >&2
  exit 2
fi
if [ ! -f "${SECRETS_FILE}" ]; then
  echo "compose.sh: ${SECRETS_FILE} is missing: run ./build_setup.sh first (it generates it)" >&2
  exit 2
fi

args=(
  --project-directory "${ROOT}/compose"
  -f "${ROOT}/compose/docker-compose.yml"
  --env-file "${ROOT}/settings.env"
  --env-file "${ROOT}/compose/profiles/${profile}.env"
  --env-file "${SECRETS_FILE}"
  --profile "${profile}"
)
# The scale build_setup.sh last brought up (--nodemanagers, --datanodes), so that later
# calls (up, run) keep it; the environment still wins.
if [ -f "${SCALE_FILE}" ]; then
  args+=(--env-file "${SCALE_FILE}")
fi
IFS=':' read -r -a overrides <<<"${STREAMLAB_COMPOSE_OVERRIDES:-}"
for file in "${overrides[@]}"; do
  [ -n "${file}" ] && args+=(-f "${file}")
done
exec docker compose "${args[@]}" "$@"
