#!/usr/bin/env bash
# Out of file descriptors: brownout serve pauses accepting instead of spinning on EMFILE, and
# serves again as soon as descriptors free up.
#   fd_exhaustion_test.sh BROWNOUT_BIN
set -uo pipefail
bin=$1
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; cat "$dir/log"; exit 1; }

# 64 descriptors, soft and hard: the server cannot raise them.
(ulimit -n 64 && exec "$bin" serve --listen 127.0.0.1:0 --ready-file "$dir/ready.json" >/dev/null 2>"$dir/log") &
pid=$!
for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
[ -s "$dir/ready.json" ] || fail "serve did not start"
port=$(sed -E 's/.*"url":"http:\/\/[^:]+:([0-9]+)".*/\1/' "$dir/ready.json")

fds=()
for _ in $(seq 1 90); do
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" || fail "could not connect"
  fds+=("$fd")
done
sleep 0.3
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu)
sleep 2
used=$(( $(cpu) - before ))
hz=$(getconf CLK_TCK)
echo "CPU while out of descriptors: $used ticks in 2 s (${hz} ticks a second)"
[ "$used" -lt $(( hz / 2 )) ] || fail "the server spins while out of descriptors"

for fd in "${fds[@]}"; do exec {fd}>&-; done
sleep 0.5
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
  -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')
[ "$code" = 200 ] || fail "no answer after descriptors freed up (got $code)"
curl -s "http://127.0.0.1:$port/metrics" | grep -E 'brownout_refused_connections_total\{provider="openai",limit="accept_failed"\} [1-9]' \
  || fail "accept failures were not counted"
echo ok
