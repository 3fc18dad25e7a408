#!/usr/bin/env bash
# Server limits and the control token, set the way users set them: flags and the environment.
#   limits_test.sh BROWNOUT_BIN
set -uo pipefail
bin=$1
dir=$(mktemp -d)
trap 'for f in "$dir"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; for f in "$dir"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

# A bad limit is a usage error that names the flag.
"$bin" serve --max-streams lots 2>"$dir/err.log"; rc=$?
[ $rc -eq 2 ] || fail "--max-streams lots exited $rc"
grep -q -- '--max-streams: "lots" is not a whole number' "$dir/err.log" || fail "no flag in the error"
"$bin" run --idle-timeout soon --report-dir "$dir/report" 2>"$dir/run-err.log" >/dev/null; rc=$?
[ $rc -eq 2 ] || fail "run --idle-timeout soon exited $rc"
grep -q -- '--idle-timeout: "soon" is not a positive duration' "$dir/run-err.log" || fail "run: no flag in the error"

# Two-second streams; at most one at a time; the control API behind a token.
cat > "$dir/slow.toml" <<'TOML'
[scenario]
name = "slow-streams"
[[providers]]
id = "openai"
latency = { ttft = "0s", tokens_per_second = 10, jitter = 0 }
answer = { min_tokens = 20, max_tokens = 20 }
TOML
start() {  # start NAME ARGS… — serve in the background, wait for its ready file, print its port
  local name=$1; shift
  "$bin" serve "$dir/slow.toml" --ready-file "$dir/$name.json" "$@" >/dev/null 2>"$dir/$name.log" &
  echo $! > "$dir/$name.pid"
  for _ in $(seq 1 100); do [ -s "$dir/$name.json" ] && break; sleep 0.05; done
  [ -s "$dir/$name.json" ] || fail "$name did not start"
  sed -E 's/.*"url":"http:\/\/[^:]+:([0-9]+)".*/\1/' "$dir/$name.json"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
stream='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'

port=$(BROWNOUT_CONTROL_TOKEN=t0ken-for-test start guarded --listen 0.0.0.0:0 --max-streams 1)
url="http://127.0.0.1:$port"
curl -sN "$url/v1/chat/completions" -H 'content-type: application/json' -d "$stream" > "$dir/first.out" &
first=$!
sleep 0.4
second=$(code "$url/v1/chat/completions" -H 'content-type: application/json' -d "$stream")
[ "$second" = 503 ] || fail "a second stream over --max-streams 1 got $second, not 503"
wait $first
grep -q '\[DONE\]' "$dir/first.out" || fail "the first stream did not finish"
[ "$(code "$url/v1/chat/completions" -H 'content-type: application/json' -d "$stream")" = 200 ] || fail "no stream after the first ended"

[ "$(code "$url/_brownout/state")" = 401 ] || fail "control API without the token"
[ "$(code -H 'authorization: Bearer wrong' "$url/_brownout/state")" = 401 ] || fail "control API with a wrong token"
[ "$(code -H 'authorization: Bearer t0ken-for-test' "$url/_brownout/state")" = 200 ] || fail "control API with the token"
grep -q t0ken "$dir/guarded.log" && fail "the token is in the log"

# A non-loopback peer: allowed with the token, refused (403) without one.
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1)
if [ -n "$ip" ]; then
  [ "$(code -H 'authorization: Bearer t0ken-for-test' "http://$ip:$port/_brownout/state")" = 200 ] || fail "token from $ip"
  open_port=$(start open --listen 0.0.0.0:0)
  [ "$(code "http://$ip:$open_port/_brownout/state")" = 403 ] || fail "non-loopback peer without a token was not refused"
  [ "$(code "http://127.0.0.1:$open_port/_brownout/state")" = 200 ] || fail "loopback peer without a token"
else
  echo "no non-loopback address here: the peer checks are left to the integration tests"
fi
echo ok
