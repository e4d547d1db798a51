#!/usr/bin/env bash
# Tear StreamLab down: its containers, networks and volumes, and optionally its images and
# generated secrets. Only resources labelled com.docker.compose.project=streamlab (containers,
# networks, volumes) or io.streamlab.project=streamlab (our images) are touched.
#   ./clean.sh            stop and remove containers and networks; asks before deleting volumes
#   ./clean.sh --yes      also delete the data volumes without asking
#   ./clean.sh --images   also remove the images this project built
#   ./clean.sh --all      everything above plus the generated secrets (.secrets/)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
PROJECT_LABEL="com.docker.compose.project=streamlab"
IMAGE_LABEL="io.streamlab.project=streamlab"

say() { printf '[clean] %s\n' "$*"; }
die() { printf '[clean] error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,9s/^# \{0,1\}//p' "$0"; }

yes=0 images=0 secrets=0
for arg in "$@"; do
  case "${arg}" in
    -y | --yes) yes=1 ;;
    --images) images=1 ;;
    --all) yes=1 images=1 secrets=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option ${arg} (see ./clean.sh --help)" ;;
  esac
done

docker info >/dev/null 2>&1 || die "the Docker engine does not answer: start Docker, then run ./clean.sh again"

remove_containers() {
  local ids
  ids="$(docker ps -aq --filter "label=${PROJECT_LABEL}")"
  if [ -z "${ids}" ]; then
    say "containers: none"
    return
  fi
  say "containers: stopping and removing $(echo "${ids}" | wc -l)"
  # NodeManager and Kafka take a while to shut down cleanly.
  # shellcheck disable=SC2086
  docker stop --time 40 ${ids} >/dev/null
  # Listed again: a job container started with --rm (./submit.sh) is gone once stopped.
  ids="$(docker ps -aq --filter "label=${PROJECT_LABEL}")"
  [ -z "${ids}" ] && return
  # shellcheck disable=SC2086
  docker rm ${ids} >/dev/null
}

remove_networks() {
  local ids
  ids="$(docker network ls -q --filter "label=${PROJECT_LABEL}")"
  [ -z "${ids}" ] && { say "networks: none"; return; }
  say "networks: removing $(echo "${ids}" | wc -l)"
  # shellcheck disable=SC2086
  docker network rm ${ids} >/dev/null
}

remove_volumes() {
  local names name
  names="$(docker volume ls -q --filter "label=${PROJECT_LABEL}")"
  [ -z "${names}" ] && { say "volumes: none"; return; }
  if [ "${yes}" -eq 0 ]; then
    say "volumes holding the lab's data (Kafka, HDFS, InfluxDB, Grafana, tokens):"
    while IFS= read -r name; do echo "  ${name}"; done <<<"${names}"
    if [ ! -t 0 ]; then
      say "volumes: kept (not a terminal; run ./clean.sh --yes to delete them)"
      return
    fi
    read -r -p "[clean] delete these volumes and their data? [y/N] " answer
    case "${answer}" in
      y | Y | yes) ;;
      *) say "volumes: kept"; return ;;
    esac
  fi
  say "volumes: removing $(echo "${names}" | wc -l)"
  # shellcheck disable=SC2086
  docker volume rm ${names} >/dev/null
}

remove_images() {
  local ids
  ids="$(docker images -q --filter "label=${IMAGE_LABEL}" | sort -u)"
  [ -z "${ids}" ] && { say "images: none"; return; }
  say "images: removing $(echo "${ids}" | wc -l)"
  # shellcheck disable=SC2086
  docker rmi --force ${ids} >/dev/null
}

remove_containers
remove_networks
remove_volumes
[ "${images}" -eq 1 ] && remove_images
if [ "${secrets}" -eq 1 ]; then
  rm -rf "${ROOT}/.secrets"
  say "secrets: removed .secrets/"
fi
say "done"
