#!/usr/bin/env bash
# Prints the path of a real influxd at the version pinned in settings.env (INFLUXDB_IMAGE_TAG):
#   1. $INFLUXD, if set (e.g. influxd from an official release archive);
#   2. an influxd on PATH that reports that version;
#   3. else one built once from the Go module github.com/influxdata/influxdb/v2 into
#      ~/.cache/streamlab/influxd-<version>/ (DESIGN.md section 8: ~10 min on 2 cores).
# Progress goes to stderr; only the path goes to stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="$(sed -n 's/^INFLUXDB_IMAGE_TAG=//p' "$ROOT/settings.env")"
CACHE="${STREAMLAB_CACHE:-$HOME/.cache/streamlab}/influxd-$VERSION"
PKG_CONFIG_VERSION=v0.3.0 # v0.2.14, named in influxdb's go.mod, fails on the go.mod toolchain line

say() { printf '[influxd] %s\n' "$*" >&2; }
die() { printf '[influxd] error: %s\n' "$*" >&2; exit 1; }

[ -n "$VERSION" ] || die "settings.env has no INFLUXDB_IMAGE_TAG"

# Captured first: `grep -q` closing the pipe early would fail it under pipefail.
reports_version() {
  local said
  said="$("$1" version 2>/dev/null)" || return 1
  [[ "$said" == "InfluxDB v$VERSION "* ]]
}

if [ -n "${INFLUXD:-}" ]; then
  [ -x "$INFLUXD" ] || die "INFLUXD=$INFLUXD is not an executable file"
  reports_version "$INFLUXD" || say "warning: $INFLUXD does not report v$VERSION"
  echo "$INFLUXD"
  exit 0
fi
if command -v influxd >/dev/null 2>&1 && reports_version "$(command -v influxd)"; then
  command -v influxd
  exit 0
fi
if [ -x "$CACHE/influxd" ] && reports_version "$CACHE/influxd"; then
  echo "$CACHE/influxd"
  exit 0
fi

missing=()
command -v go >/dev/null 2>&1 || missing+=("Go (https://go.dev/dl, 1.22 or later)")
command -v cargo >/dev/null 2>&1 || missing+=("Rust's cargo (rustup)")
command -v cc >/dev/null 2>&1 || missing+=("a C compiler (apt-get install build-essential)")
[ "${#missing[@]}" -eq 0 ] || die "no influxd v$VERSION found and cannot build one: missing ${missing[*]}.
  Install them, or download influxd v$VERSION from InfluxData's releases and set INFLUXD=/path/to/influxd"

say "building influxd v$VERSION from its Go module into $CACHE (once; about 10 minutes on 2 cores)"
work="$CACHE/build"
rm -rf "$work"
mkdir -p "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
say "1/4 downloading the module github.com/influxdata/influxdb/v2@v$VERSION"
src="$(cd "$work" && go mod download -json "github.com/influxdata/influxdb/v2@v$VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src" ] || die "go mod download gave no source folder for influxdb v$VERSION"
cp -r "$src" "$work/influxdb"
chmod -R u+w "$work/influxdb"

say "2/4 installing InfluxDB's pkg-config wrapper $PKG_CONFIG_VERSION (it builds Flux's Rust library)"
GOBIN="$work/bin" go install "github.com/influxdata/pkg-config@$PKG_CONFIG_VERSION"
export PKG_CONFIG="$work/bin/pkg-config"

# Flux denies warnings and pins an old Rust; newer rustc lints would fail its build, and
# RUSTFLAGS do not reach its build scripts' dependencies, so every crate is capped by a wrapper.
cat >"$work/bin/rustc-cap-lints" <<'EOF'
#!/bin/sh
exec "$@" --cap-lints warn
EOF
chmod +x "$work/bin/rustc-cap-lints"
export RUSTC_WRAPPER="$work/bin/rustc-cap-lints"
RUSTUP_TOOLCHAIN="$(rustc --version | awk '{print $2}')"
export RUSTUP_TOOLCHAIN

say "3/4 building Flux's Rust library (libflux) with rustc $RUSTUP_TOOLCHAIN"
(cd "$work/influxdb" && "$PKG_CONFIG" --cflags flux >/dev/null) ||
  die "building libflux failed (see the cargo output above)"

say "4/4 go build ./cmd/influxd (no UI assets: the full HTTP API)"
# The version is stamped as InfluxData's release build stamps it, so /health reports it.
ldflags="-s -w -X main.version=v$VERSION -X main.commit=go-module"
(cd "$work/influxdb" &&
  go build -tags sqlite_foreign_keys,sqlite_json,noasm -ldflags "$ldflags" \
    -o "$CACHE/influxd.new" ./cmd/influxd) ||
  die "go build of influxd failed (see above)"
mv "$CACHE/influxd.new" "$CACHE/influxd"
reports_version "$CACHE/influxd" || die "the built influxd does not report v$VERSION"
rm -rf "$work"
say "built $CACHE/influxd"
echo "$CACHE/influxd"
