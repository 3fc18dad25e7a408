#!/usr/bin/env bash
# brownout serve SCENARIO --start-at 2h begins mid-incident: the DeepSeek API is down. So does
# --epoch two hours ago (replicas sharing an epoch follow one timeline); a future epoch is an error.
set -euo pipefail
bin=$1
scenario=$2
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT

check_mid_incident() {  # check_mid_incident ARGS… — serve with ARGS, expect the 2h state
  rm -f "$dir/ready.json"
  "$bin" serve "$scenario" --listen 127.0.0.1:0 --time-scale 1 --ready-file "$dir/ready.json" "$@" 2>"$dir/log" &
  pid=$!
  for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
  url=$(sed -E 's/.*"id":"deepseek","url":"([^"]+)".*/\1/' "$dir/ready.json")
  code=$(curl -s -o "$dir/body" -w '%{http_code}' "$url/chat/completions" -d '{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}')
  [ "$code" = 503 ] || { echo "$*: expected 503 at 2h, got $code"; cat "$dir/body"; exit 1; }
  grep -q "Server busy, please try again later." "$dir/body"
  state=$(curl -s "$url/_brownout/state")
  echo "$state" | grep -q '"scenario_time":"2h' || { echo "$*: state: $state"; exit 1; }
  kill $pid; wait $pid || true; pid=
}
check_mid_incident --start-at 2h
check_mid_incident --epoch $(( $(date +%s) - 7230 ))
check_mid_incident --epoch "$(date -u -d '-7230 seconds' +%Y-%m-%dT%H:%M:%SZ)"

set +e
"$bin" serve "$scenario" --epoch $(( $(date +%s) + 600 )) 2>"$dir/err"; rc=$?
set -e
[ $rc -eq 2 ] || { echo "a future epoch exited $rc"; exit 1; }
grep -q "in the future" "$dir/err" || { cat "$dir/err"; exit 1; }
echo ok
