#!/usr/bin/env bash
# The end-to-end tier: build every image from the project's Dockerfiles, bring the stack up
# with ./build_setup.sh (full: 2 NodeManagers and 2 DataNodes, so that the scale and a
# submitted job's executors on two nodes are tested in the same bring-up), assert (pytest
# tests/e2e), re-run, tear down; then the lite profile.
# Needs a running Docker engine with Compose v2 (CI prepares one with .ci/prepare_docker.sh).
# Where the official influxdb/grafana images cannot be had (tests/e2e/doubles.compose.yml),
# InfluxDB is the real influxd from tests/harness/influxd.sh in a test-only image
# (tests/e2e/influxdb) and Grafana is its test double. Figures and logs land in
# tests/e2e/artifacts/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "${ROOT}"
ARTIFACTS="${ROOT}/tests/e2e/artifacts"
VENV="${STREAMLAB_VENV:-${ROOT}/.venv}"
mkdir -p "${ARTIFACTS}"
: >"${ARTIFACTS}/figures.jsonl" # the tests' figures of this run (stack.record_figure)

say() { printf '[e2e] %s\n' "$*"; }
die() { printf '[e2e] error: %s\n' "$*" >&2; exit 1; }
setting() { sed -n "s/^$1=//p" settings.env | tail -n 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ -x "${VENV}/bin/pytest" ] || die "run ./tests/run.sh first: it creates ${VENV}"
docker info >/dev/null 2>&1 || die "no Docker engine answers (CI: .ci/prepare_docker.sh)"

# shellcheck source=tests/e2e/images.sh
source "${ROOT}/tests/e2e/images.sh"
choose_influxdb_grafana_images
export STREAMLAB_E2E=1

sample_memory() {
  # Sum of the project's containers' memory, every 5 s, in MiB.
  while true; do
    docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' 2>/dev/null \
      | awk -v t="$(date +%s)" '$1 ~ /^streamlab-/ {
          split($2, a, /[A-Za-z]+/); v = a[1]; u = $2; sub(/^[0-9.]+/, "", u);
          if (u == "GiB") v *= 1024; else if (u == "KiB") v /= 1024; else if (u == "B") v /= 1048576;
          s += v } END { printf "%s %.0f\n", t, s }'
    sleep 5
  done
}

sample_memory_per_service() {
  # Each of the project's containers' memory, every 5 s, in MiB: "epoch name MiB".
  while true; do
    docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' 2>/dev/null \
      | awk -v t="$(date +%s)" '$1 ~ /^streamlab-/ {
          split($2, a, /[A-Za-z]+/); v = a[1]; u = $2; sub(/^[0-9.]+/, "", u);
          if (u == "GiB") v *= 1024; else if (u == "KiB") v /= 1024; else if (u == "B") v /= 1048576;
          printf "%s %s %.0f\n", t, $1, v }'
    sleep 5
  done
}

peak_per_service() {
  # The peak of each container in a sample_memory_per_service file.
  awk '{ if ($3 > peak[$2]) peak[$2] = $3 } END { for (n in peak) printf "  %-32s %6d MiB\n", n, peak[n] }' "$1" | sort
}

pytest_e2e() {
  # A failure guard per test, not a figure: a fresh, loaded machine is slow.
  "${VENV}/bin/pytest" -p no:cacheprovider -v -s -rA --timeout 1800 "$@"
}

bring_up() {
  local profile="$1" log="${ARTIFACTS}/build_setup-$1.log"
  shift
  say "./build_setup.sh --profile ${profile} $*"
  local started
  started="$(now)"
  if ! ./build_setup.sh --profile "${profile}" "$@" 2>&1 | while IFS= read -r line; do
      printf '%s %s\n' "$(date +%s.%N)" "${line}"
    done | tee "${log}" | cut -d' ' -f2-; then
    die "build_setup.sh failed; logs in ${ARTIFACTS}"
  fi
  UP_EPOCH="$(now)"
  export E2E_STACK_UP_EPOCH="${UP_EPOCH}"
  say "build_setup.sh (${profile}) took $(elapsed "${started}" "${UP_EPOCH}") s"
}

stamp_of() {
  # The time build_setup.sh printed a line matching $2 in log $1.
  grep -m1 -- "$2" "$1" | cut -d' ' -f1
}

report() {
  local full_log="${ARTIFACTS}/build_setup-full.log"
  local build_start build_end up_start first_point peak
  build_start="$(stamp_of "${full_log}" 'images: building')"
  build_end="$(stamp_of "${full_log}" 'starting the full stack')"
  up_start="${build_end}"
  first_point="$(sed -n 's/^first_point_epoch=//p' "${ARTIFACTS}/first_point.txt" || true)"
  peak="$(sort -k2 -n "${ARTIFACTS}/memory-full.txt" | tail -n 1 | cut -d' ' -f2)"
  say "figures (full profile):"
  docker images --filter "label=io.streamlab.project=streamlab" --filter dangling=false \
    --format '  image {{.Repository}}:{{.Tag}}  {{.Size}}' | tee "${ARTIFACTS}/image_sizes.txt"
  say "  image build: $(elapsed "${build_start}" "${build_end}") s (./compose.sh build, all images, with the layer cache this engine had)"
  if [ -n "${first_point}" ]; then
    say "  up to first point stored: $(elapsed "${up_start}" "${first_point}") s"
  else
    say "  up to first point stored: not observed ($(cat "${ARTIFACTS}/first_point.txt"))"
  fi
  say "  peak memory of the stack: ${peak:-?} MiB (docker stats, sampled every 5 s; 2 NodeManagers, 2 DataNodes, ./submit.sh jobs)"
  say "  peak memory per container (2 NodeManagers, 2 DataNodes, with ./submit.sh jobs):"
  peak_per_service "${ARTIFACTS}/memory-per-service-full.txt"
}

BACKGROUND=() # the memory sampler and the first-point poller, stopped on any exit

stop_background() {
  [ "${#BACKGROUND[@]}" -eq 0 ] || kill "${BACKGROUND[@]}" 2>/dev/null || true
  BACKGROUND=()
}

run_full() {
  sample_memory >"${ARTIFACTS}/memory-full.txt" &
  BACKGROUND+=("$!")
  sample_memory_per_service >"${ARTIFACTS}/memory-per-service-full.txt" &
  BACKGROUND+=("$!")
  "${VENV}/bin/python" tests/e2e/first_point.py >"${ARTIFACTS}/first_point.txt" 2>&1 &
  BACKGROUND+=("$!")
  bring_up full --nodemanagers 2 --datanodes 2
  # test_submit after the timed ones: its jobs take cores the pipeline's figures want.
  pytest_e2e tests/e2e/test_pipeline.py tests/e2e/test_stack.py tests/e2e/test_examples.py \
    tests/e2e/test_dashboard_queries.py tests/e2e/test_scale.py tests/e2e/test_submit.py \
    tests/e2e/test_recovery.py tests/e2e/test_rerun.py
  stop_background
  report
  # A one-line change in services/ on the images just built: no dependency layer rebuilt (the
  # build logs in artifacts/image-layers-*.log). After the figures: it takes the cores a while.
  pytest_e2e tests/e2e/test_image_layers.py
  pytest_e2e tests/e2e/test_clean.py
}

run_lite() {
  sample_memory_per_service >"${ARTIFACTS}/memory-per-service-lite.txt" &
  BACKGROUND+=("$!")
  bring_up lite --no-build
  STREAMLAB_PROFILE=lite pytest_e2e tests/e2e/test_pipeline.py tests/e2e/test_stack.py \
    tests/e2e/test_submit.py
  stop_background
  say "peak memory per container (lite, with ./submit.sh jobs):"
  peak_per_service "${ARTIFACTS}/memory-per-service-lite.txt"
  STREAMLAB_PROFILE=lite pytest_e2e tests/e2e/test_clean.py
}

on_exit() {
  local status=$?
  stop_background
  if [ "${status}" -ne 0 ] && [ -f .secrets/profile ]; then
    # Every service's whole log, before clean.sh removes the containers.
    ./compose.sh logs --no-color --timestamps >"${ARTIFACTS}/compose-failed.log" 2>&1 || true
    say "failed (exit ${status}): the stack's logs are in ${ARTIFACTS}/compose-failed.log"
  fi
  ./clean.sh --yes >/dev/null 2>&1 || true
}

trap on_exit EXIT
./clean.sh --yes
run_full
run_lite
say "figures the tests recorded (${ARTIFACTS}/figures.jsonl):"
sed 's/^/  /' "${ARTIFACTS}/figures.jsonl"
say "e2e passed"
