#!/usr/bin/env bash
# Change a stream's rate live: ./set_rate.sh DATASET RATE [--interval | --speedup]
#   ./set_rate.sh weather 200            200 rows per second
#   ./set_rate.sh weather 2 --interval   one row every 2 seconds
#   ./set_rate.sh temps 3600 --speedup   original spacing, 3600 times faster
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,5s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[ "$#" -ge 2 ] && [ "$#" -le 3 ] || usage

dataset="$1"
value="$2"
mode="rows_per_second"
case "${3:-}" in
  "") ;;
  --interval) mode="interval_s" ;;
  --speedup) mode="speedup" ;;
  *) usage ;;
esac
if ! [[ "$value" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "set_rate: RATE must be a positive number, got '$value'" >&2
  exit 2
fi

setting() { sed -n "s/^$1=//p" settings.env | tail -n 1; }
value() { local v="${!1:-}"; echo "${v:-$(setting "$1")}"; } # the environment, else settings.env
host=$(value STREAMER_HOST)
port=$(value STREAMER_PORT)
url="http://${host}:${port}/streams/${dataset}/rate"

if ! response=$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d "{\"${mode}\": ${value}}" -w '\n%{http_code}' "$url"); then
  echo "set_rate: cannot reach the streamer at ${url}: is the stack up? (./build_setup.sh)" >&2
  exit 1
fi
code="${response##*$'\n'}"
body="${response%$'\n'*}"
echo "$body"
[ "$code" = "200" ] || { echo "set_rate: the streamer answered HTTP ${code}" >&2; exit 1; }
