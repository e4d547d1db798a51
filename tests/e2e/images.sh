#!/usr/bin/env bash
# Sourced by tests/e2e/run.sh and bench/run.sh (stack): the official influxdb and grafana
# images where they can be pulled; else the real influxd from tests/harness/influxd.sh in a
# test-only image (tests/e2e/influxdb) and the Grafana test double, through the compose
# override tests/e2e/doubles.compose.yml. Needs ROOT, say, die and setting.

official_images_available() {
  local influx grafana
  influx="influxdb:$(setting INFLUXDB_IMAGE_TAG)"
  grafana="grafana/grafana-oss:$(setting GRAFANA_IMAGE_TAG)"
  for image in "${influx}" "${grafana}"; do
    docker image inspect "${image}" >/dev/null 2>&1 && continue
    timeout 60 docker pull -q "${image}" >/dev/null 2>&1 || return 1
  done
}

stage_influxd() {
  # The test-only InfluxDB image copies influxd from its build context (git-ignored dist/).
  local version binary dest="${ROOT}/tests/e2e/influxdb/dist/influxd"
  version="$(setting INFLUXDB_IMAGE_TAG)"
  say "getting influxd v${version} from tests/harness/influxd.sh (built once from its Go module, ~10 min; cached after)"
  binary="$(tests/harness/influxd.sh)" \
    || die "tests/harness/influxd.sh gave no influxd (its messages above say why); or set INFLUXD=/path/to/influxd v${version}"
  mkdir -p "$(dirname "${dest}")"
  cmp -s "${binary}" "${dest}" || install -m 0755 "${binary}" "${dest}"
  say "influxd ${binary} -> ${dest#"${ROOT}/"} (build context of streamlab/test-influxdb)"
}

choose_influxdb_grafana_images() {
  if official_images_available; then
    say "using the official influxdb and grafana images"
  else
    say "the official influxdb/grafana images cannot be pulled here: InfluxDB runs the real influxd in a test-only image (tests/e2e/influxdb), Grafana is the test double (tests/doubles/grafana)"
    stage_influxd
    export STREAMLAB_COMPOSE_OVERRIDES="${ROOT}/tests/e2e/doubles.compose.yml"
  fi
}
