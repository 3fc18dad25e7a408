#!/usr/bin/env bash
# latency.rtt: every reply reaches the client a network round trip later, on the wire and in the
# simulator alike — answers (ttft 200 ms + rtt 1 s: a 1.2 s median) and errors (a 503 from the
# outage phase also takes 1 s, so a stack without backoff makes about one attempt a second
# during it, not thousands).
set -euo pipefail
bin=$(realpath "${1:?usage: rtt_test.sh BROWNOUT}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/s.toml" <<'TOML'
[scenario]
name = "round-trip"
duration = "4m"
time_scale = 30
seed = 5
[workload]
rate = "600/h"
deadline = "30s"
repeat = 0
[[providers]]
id = "far"
latency = { ttft = "200ms", tokens_per_second = 0, jitter = 0, rtt = "1s" }
  [[providers.phases]]
  start = "2m"
  end = "3m"
  fault = "outage"
  mode = "http"
[[clients]]
name = "spinner"
policy = "failover"
providers = ["far"]
backoff_base = "0s"
retry_budget = "unlimited"
breaker_failures = 1000
cache = false
TOML
"$bin" run "$dir/s.toml" --json "$dir/run.json" --report-dir "$dir/r" > "$dir/run.txt" 2>&1 \
  || { cat "$dir/run.txt"; exit 1; }
"$bin" sim "$dir/s.toml" --seeds 1 --metric incident.retry_amplification --sweep workload.deadline=30s \
  --json "$dir/sim.json" > "$dir/sim.txt" 2>&1 || { cat "$dir/sim.txt"; exit 1; }
python3 - "$dir/run.json" "$dir/sim.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["stacks"][0]["metrics"]
p50 = run["steady"]["latency_p50"]
assert 1.15 <= p50 <= 1.5, f"on the wire the median answer took {p50} s, not ttft + rtt = 1.2 s"
amp = run["incident"]["retry_amplification"]
# 30 s of deadline, one attempt a round trip: about 30 attempts a user (fewer near the phase end).
assert 5 <= amp <= 35, f"on the wire {amp} attempts a user in the outage, not about one a second"
sim = json.load(open(sys.argv[2]))["points"][0]["stacks"][0]["summary"]["incident.retry_amplification"]["mean"]
assert 5 <= sim <= 35, f"in the simulator {sim} attempts a user in the outage"
print(f"rtt: median answer {p50:.2f} s on the wire; outage attempts a user {amp:.1f} (wire), {sim:.1f} (sim)")
PY
