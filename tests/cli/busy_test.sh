#!/usr/bin/env bash
# A harness the machine did not run on time says so: brownout is stopped (SIGSTOP) for a wall
# second in the middle of a run at x60, so the users due in that minute of scenario time are sent
# late, and the report's notes count them instead of passing the machine's stall off as the stack's
# latency. The mock in the same process is stopped too: the answers it was to send in that second
# (each 30 s of scenario time after its request, half a wall second) go out late, and a note says
# that as well. A run left alone has no such notes.
set -euo pipefail
bin=$(realpath "${1:?usage: busy_test.sh BROWNOUT}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/s.toml" <<'TOML'
[scenario]
name = "stalled-harness"
duration = "5m"
time_scale = 60
seed = 3
[workload]
rate = "1200/h"
deadline = "60s"
[[providers]]
id = "primary"
latency = { ttft = "30s", tokens_per_second = 100 }
[[clients]]
name = "plain"
policy = "naive"
providers = ["primary"]
TOML

"$bin" run "$dir/s.toml" --report-dir "$dir/stalled" > "$dir/stalled.txt" 2>&1 &
pid=$!
sleep 1.5
kill -STOP "$pid"
sleep 1
kill -CONT "$pid"
wait "$pid" || { cat "$dir/stalled.txt"; echo "the stalled run failed"; exit 1; }
grep -q "the harness ran late (a busy machine.*users were sent more than 3s late" "$dir/stalled/report.json" \
  || { cat "$dir/stalled.txt"; echo "a stalled harness did not say so"; exit 1; }
# The worst lateness in milliseconds at most ("up to 3.6s", not "up to 3.600345448s").
if grep -qE "late \(up to [^)]*\.[0-9]{4}" "$dir/stalled/report.json"; then
  grep -o "late (up to [^)]*)" "$dir/stalled/report.json"
  echo "the lateness is not rounded"
  exit 1
fi

grep -q "the mock ran late (a busy machine.*timed sends .* went out more than 3s late" \
  "$dir/stalled/report.json" || { cat "$dir/stalled.txt"; echo "a stalled mock did not say so"; exit 1; }

"$bin" run "$dir/s.toml" --report-dir "$dir/calm" > "$dir/calm.txt" 2>&1 \
  || { cat "$dir/calm.txt"; echo "the run failed"; exit 1; }
if grep -q "ran late" "$dir/calm/report.json"; then
  # A busy machine can stall a run on its own; then this half says nothing about the note.
  echo "note: the calm run was stalled too (a busy machine)"
fi
echo "ok"
