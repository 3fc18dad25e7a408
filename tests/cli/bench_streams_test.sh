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

# Answers of 20 tokens at 50 a second after 100 ms: about half a second a stream, five or six on
# each of 20 connections in 3 s (they start spread over the first second), and plain requests
# beside them. Each program runs under a timeout, so that a wedged one fails here and is cleaned
# up.
sed -E 's/min_tokens = [0-9]+, max_tokens = [0-9]+/min_tokens = 20, max_tokens = 20/' \
  "$scenario" > "$dir/scenario.toml"
grep -q 'min_tokens = 20, max_tokens = 20' "$dir/scenario.toml" || fail "the scenario's answer not rewritten"
"$bin" serve "$dir/scenario.toml" --listen 127.0.0.1:0 --ready-file "$dir/ready.json" \
  > /dev/null 2> "$dir/serve.log" &
echo $! > "$dir/pid"
for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
[ -s "$dir/ready.json" ] || fail "serve did not start"
url=$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$dir/ready.json")
timeout 60 "$load" --url "$url" --pid "$(cat "$dir/pid")" --streams 20 --rps 5 --seconds 3 \
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
grep -qE '^gaps more than 5 ms off, every 5 s: [0-9]+ [0-9 ]*$' "$dir/load.log" \
  || fail "no misses by window"
grep -qE '; [1-9][0-9]* tokens/s$' <<< "$line" || fail "no tokens: $line"

# The floor: 50 streams at 20 frames a second for 4 s (gaps measured after the first 2).
timeout 60 "$floor" --streams 50 --tokens-per-second 20 --seconds 4 > "$dir/floor.log" 2>&1
rc=$?
[ $rc -le 1 ] || fail "stream_floor exited $rc"
# Every frame is sent and at least half arrive, even on a busy machine (no timing is asserted).
grep -qE '^frames/s delivered ([5-9][0-9][0-9]|1000) of 1000 asked.* failed 0;' "$dir/floor.log" \
  || fail "frames not delivered"
grep -qE 'gap error after 2 s: p50 [0-9.]+ / p99 [0-9.]+ .* over [1-9][0-9]* gaps' \
  "$dir/floor.log" || fail "no gap errors measured by the floor"
echo "ok: $line"
