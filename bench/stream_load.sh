#!/usr/bin/env bash
# Load held (issue 5): `brownout serve` at time_scale 1 with STREAMS concurrent SSE streams at
# TPS tokens/s (default 50) plus RPS non-streaming requests a second for SECONDS, sampling the
# server's RSS and CPU and every inter-token gap (bench/stream_load.cpp, a one-thread C++
# generator). The server's connection and stream limits are raised to fit STREAMS.
#   [SCENARIO=bench/stream_load_faults.toml] [TPS=20] ./bench/stream_load.sh [STREAMS=1000] [RPS=50] [SECONDS=300]
# SERVER=BINARY serves with another build of brownout (an A/B beside this one).
# Exit code 0 when every target holds: no error beyond the faults the scenario scripts (checked
# against the faulted attempts the server journaled), inter-token timing error p99 < 5 ms, RSS flat.
# Last, the server's own lateness (GET /metrics, brownout_send_lateness_seconds): how much of the
# timing error is the server's.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
install_debian_packages "${DEBIAN_PACKAGES[@]}"
build
server=${SERVER:-$BROWNOUT}
streams=${1:-1000}; rps=${2:-50}; seconds=${3:-300}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
tps=${TPS:-50}
# The scenario's answers at TPS tokens a second (the library files say 50).
sed -E "s/tokens_per_second = [0-9.]+/tokens_per_second = $tps/" \
  "${SCENARIO:-$ROOT/bench/stream_load.toml}" > "$dir/scenario.toml"
# A plain request is open for its whole answer (the first token's 100 ms, then the scenario's
# max_tokens at TPS): room for twice the RPS a second that keeps open. (Four a request a second,
# as this said before 2026-12-04, refused a third of them at TPS=5, whose answers take 40 s.)
tokens=$(sed -nE 's/.*max_tokens = ([0-9]+).*/\1/p' "$dir/scenario.toml" | head -1)
open_requests=$(awk -v r="$rps" -v t="$tps" -v n="${tokens:-200}" \
  'BEGIN { printf "%d", 2 * r * (0.1 + n / t) + 1 }')
"$server" serve "$dir/scenario.toml" --listen 127.0.0.1:0 --ready-file "$dir/ready.json" \
  --max-connections $((streams + open_requests + 1000)) --max-streams $((streams + 1000)) 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
url=$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$dir/ready.json")
log "$streams streams at $tps tokens/s + $rps requests/s for $seconds s against $url"
status=0
"$BUILD_DIR/bench/stream_load" --url "$url" --pid "$pid" --streams "$streams" --rps "$rps" \
  --seconds "$seconds" --tokens-per-second "$tps" || status=$?
metrics=$(curl -s "$url/metrics" || true)  # a server gone still leaves the figures above
grep -E '^brownout_(attempts_total|active_streams|refused_connections)' <<< "$metrics" || true
# The server's own share of the pacing error: how late it handed each timed send (an answer's
# head, a stream's frame) to the socket, against when it was due. What the generator measures
# beyond it is the kernel's, the generator's own, or the machine's.
awk '/^brownout_send_lateness_seconds_bucket/ {
       le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le); n[le] += $2 }
     /^brownout_send_lateness_max_seconds/ { if ($2 > max) max = $2 }
     END { if (n["+Inf"] > 0) printf "server: %d timed sends, %.3f%% within 1 ms of due, %.3f%% within 5 ms, the latest %.1f ms late\n",
             n["+Inf"], 100 * n["0.001"] / n["+Inf"], 100 * n["0.005"] / n["+Inf"], 1000 * max }' <<< "$metrics"
exit "$status"
