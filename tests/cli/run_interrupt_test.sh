#!/usr/bin/env bash
# brownout run stopped by SIGINT mid-run still writes its reports, marked partial.
set -uo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/s.toml" <<'TOML'
[scenario]
name = "interrupted"
duration = "1h"
time_scale = 120
[workload]
rate = "3600/h"
[[providers]]
id = "p"
latency = { ttft = "100ms", tokens_per_second = 100 }
TOML
"$bin" run "$dir/s.toml" --report-dir "$dir/report" > "$dir/out" 2>&1 &
pid=$!
sleep 2
kill -INT $pid
wait $pid
grep -q '"partial":true' "$dir/report/report.json" || { echo "report not marked partial"; cat "$dir/out"; exit 1; }
grep -q "<testsuite" "$dir/report/junit.xml" || { echo "no JUnit report"; exit 1; }
grep -q "interrupted" "$dir/out" || { echo "the run did not say it was interrupted"; cat "$dir/out"; exit 1; }
echo ok
