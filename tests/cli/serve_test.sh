#!/usr/bin/env bash
# brownout serve as a user runs it: ready file, an answer, a clean stop on SIGTERM.
set -euo pipefail
bin=$1
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" serve --listen 127.0.0.1:0 --ready-file "$dir/ready.json" 2>"$dir/log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
[ -s "$dir/ready.json" ] || { echo "no ready file"; cat "$dir/log"; exit 1; }
url=$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$dir/ready.json")
echo "ready: $(cat "$dir/ready.json")"
body=$(curl -sf "$url/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')
echo "$body" | grep -q '"object":"chat.completion"' || { echo "bad answer: $body"; exit 1; }
kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then echo "serve did not stop on SIGTERM"; exit 1; fi
wait $pid; rc=$?
[ $rc -eq 0 ] || { echo "exit code $rc"; exit 1; }
grep -q "shutting down" "$dir/log"
echo "ok"
