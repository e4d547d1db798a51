#!/usr/bin/env bash
# The test command: installs what the tests need from this project's own files, then runs
# the unit and integration tiers (real ZooKeeper, Kafka, Hadoop and InfluxDB as local
# processes) and the browser tests (the streamer's control page in Debian's headless
# chromium), after the linters (ruff; shellcheck and hadolint, from PyPI like the rest).
# INFLUXD=/path/to/influxd uses that InfluxDB 2.7 server instead of building one.
#   ./tests/run.sh                 everything
#   ./tests/run.sh tests/unit      any pytest arguments instead of the default tiers
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3.11}"
VENV="${STREAMLAB_VENV:-$ROOT/.venv}"

say() { printf '[tests] %s\n' "$*"; }
die() { printf '[tests] error: %s\n' "$*" >&2; exit 1; }

need_system_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v "$PYTHON" >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
  [ "${#missing[@]}" -eq 0 ] && return
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    die "missing ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install ${missing[*]})"
  fi
}

python_bin() {
  if command -v "$PYTHON" >/dev/null 2>&1; then echo "$PYTHON"; else echo python3; fi
}

install_python_deps() {
  local stamp="$VENV/.streamlab-installed" want
  want=$(sha256sum pyproject.toml | cut -c1-16)
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtualenv in $VENV"
    "$(python_bin)" -m venv "$VENV" || die "cannot create a virtualenv: install python3-venv"
  fi
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    say "installing Python dependencies (pyproject.toml: streamer, spark, provision, metrics, test)"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[streamer,spark,provision,metrics,test]"
    echo "$want" > "$stamp"
  fi
}

fetch_jars() {
  local images=()
  for pom in images/*/pom.xml; do images+=("$(basename "$(dirname "$pom")")"); done
  say "resolving jars from images/*/pom.xml (${images[*]}); first run downloads from Maven Central"
  "$VENV/bin/python" tests/harness/jars.py "${images[@]}" >/dev/null
}

find_influxd() {
  say "InfluxDB: tests/harness/influxd.sh (INFLUXD, an influxd on PATH, or one built once from its Go module)"
  INFLUXD="$(tests/harness/influxd.sh)" || die "no influxd to test against (see above)"
  export INFLUXD
  say "InfluxDB: $("$INFLUXD" version)"
}

project_files() {
  # Tracked files and new ones not ignored; every file below the root outside a git checkout.
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard
  else
    find . -type f -not -path './.git/*' -not -path './.venv/*' | sed 's|^\./||'
  fi
}

lint_shell_and_dockerfiles() {
  # Lints every shell script (*.sh, or a sh/bash shebang) with shellcheck, following what they
  # source, and every Dockerfile with hadolint, less the exceptions (and reasons) of .hadolint.yaml.
  local file shell_files=() dockerfiles=()
  while IFS= read -r file; do
    [ -f "$file" ] || continue
    case "$file" in
      *.sh) shell_files+=("$file") ;;
      Dockerfile | */Dockerfile | *.Dockerfile) dockerfiles+=("$file") ;;
      *) if head -n 1 "$file" | grep -qE '^#!.*[/ ](ba)?sh([[:space:]]|$)'; then shell_files+=("$file"); fi ;;
    esac
  done < <(project_files)
  say "shellcheck $("$VENV/bin/shellcheck" --version | sed -n 's/^version: //p') (${#shell_files[@]} shell scripts)"
  "$VENV/bin/shellcheck" -x "${shell_files[@]}" \
    || die "shellcheck found problems (above): fix them, or disable one check on its line with a reason"
  say "hadolint $("$VENV/bin/hadolint" --version | sed 's/.* //') (${#dockerfiles[@]} Dockerfiles)"
  "$VENV/bin/hadolint" --config .hadolint.yaml "${dockerfiles[@]}" \
    || die "hadolint found problems (above): fix them, or add an ignore with its reason (.hadolint.yaml or the line before)"
}

need_system_tools
install_python_deps
fetch_jars
find_influxd
say "ruff"
"$VENV/bin/ruff" check --quiet . || die "ruff found problems (run .venv/bin/ruff check --fix .)"
"$VENV/bin/ruff" format --check --quiet . || die "files need formatting (run .venv/bin/ruff format .)"
lint_shell_and_dockerfiles

args=("$@")
[ "${#args[@]}" -gt 0 ] || args=(tests/unit tests/integration tests/browser)
say "pytest ${args[*]}"
set +e
"$VENV/bin/pytest" -p no:cacheprovider "${args[@]}"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  die "pytest collected no tests from: ${args[*]}"
fi
exit "$status"
