#!/usr/bin/env bash
# brownout serve SCENARIO --start-at 2h begins mid-incident: the DeepSeek API is down.
set -euo pipefail
bin=$1
scenario=$2
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" serve "$scenario" --listen 127.0.0.1:0 --start-at 2h --time-scale 1 --ready-file "$dir/ready.json" 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
url=$(sed -E 's/.*"id":"deepseek","url":"([^"]+)".*/\1/' "$dir/ready.json")
code=$(curl -s -o "$dir/body" -w '%{http_code}' "$url/chat/completions" -d '{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}')
[ "$code" = 503 ] || { echo "expected 503 at 2h, got $code"; cat "$dir/body"; exit 1; }
grep -q "Server busy, please try again later." "$dir/body"
state=$(curl -s "$url/_brownout/state")
echo "$state" | grep -q '"scenario_time":"2h' || { echo "state: $state"; exit 1; }
echo ok
