#!/usr/bin/env bash
# The stream benchmarks' programs run end to end on a few streams (bench/README.md has their
# figures; nothing here is timed): bench/stream_load's generator against `brownout serve`, with
# every answer verified, and bench/stream_floor's sender and receiver.
#   bench_streams_test.sh BROWNOUT_BIN STREAM_LOAD_BIN STREAM_FLOOR_BIN SCENARIO
set -uo pipefail
bin=$1; load=$2; floor=$3; scenario=$4
dir=$(mktemp -d)
trap '[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; for f in "$dir"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

# Answers of 20 tokens at 50 a second: 0.4 s a stream, about five on each of 20 connections
# in 3 s (the streams start spread over the first second), and plain requests beside them.
sed -E 's/min_tokens = [0-9]+, max_tokens = [0-9]+/min_tokens = 20, max_tokens = 20/' \
  "$scenario" > "$dir/scenario.toml"
"$bin" serve "$dir/scenario.toml" --listen 127.0.0.1:0 --ready-file "$dir/ready.json" \
  > /dev/null 2> "$dir/serve.log" &
echo $! > "$dir/pid"
for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
[ -s "$dir/ready.json" ] || fail "serve did not start"
url=$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$dir/ready.json")
"$load" --url "$url" --pid "$(cat "$dir/pid")" --streams 20 --rps 5 --seconds 3 \
  --tokens-per-second 50 > "$dir/load.log" 2>&1
rc=$?
[ $rc -le 1 ] || fail "stream_load exited $rc"  # 1: a target not held (RSS over 3 s, timing)
line=$(grep -E '^streams completed' "$dir/load.log") || fail "no totals"
read -r streams stream_errors requests request_errors < <(
  sed -E 's/streams completed ([0-9]+), stream errors ([0-9]+); requests completed ([0-9]+), request errors ([0-9]+);.*/\1 \2 \3 \4/' <<< "$line")
[ "$streams" -ge 50 ] || fail "only $streams streams completed"
[ "$stream_errors" -eq 0 ] && [ "$request_errors" -eq 0 ] || fail "errors: $line"
[ "$requests" -ge 10 ] || fail "only $requests plain requests completed"
grep -qE '^inter-token timing error \(ms\): p50 [0-9.]+ +p99 [0-9.]+ .* over [1-9][0-9]* gaps' \
  "$dir/load.log" || fail "no gap errors measured"
grep -qE '^gaps more than 5 ms off, every 5 s: (none|[0-9 ]+)$' "$dir/load.log" \
  || fail "no misses by window"

# The floor: 50 streams at 20 frames a second for 4 s (gaps measured after the first 2).
"$floor" --streams 50 --tokens-per-second 20 --seconds 4 > "$dir/floor.log" 2>&1
rc=$?
[ $rc -le 1 ] || fail "stream_floor exited $rc"
grep -qE '^frames/s delivered [0-9]+ of 1000 asked' "$dir/floor.log" || fail "no delivery line"
grep -qE 'gap error after 2 s: p50 [0-9.]+ / p99 [0-9.]+ .* over [1-9][0-9]* gaps' \
  "$dir/floor.log" || fail "no gap errors measured by the floor"
echo "ok: $line"
