#!/usr/bin/env bash
# Macro benchmark: user requests per second that one `brownout run` sustains through the
# built-in failover stack with faults active, and its peak memory.
#   ./bench/harness_throughput.sh [RATE_PER_SECOND]     (default 5000)
# "Sustains" means the run keeps up: every request done, availability ~100%, p99 latency small.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
install_debian_packages "${DEBIAN_PACKAGES[@]}" time
build
rate=${1:-5000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s/RATE\/s/${rate}\/s/" "$ROOT/bench/harness_throughput.toml" > "$dir/scenario.toml"
/usr/bin/time -v "$BROWNOUT" run "$dir/scenario.toml" --report-dir "$dir/report" > "$dir/out.txt" 2> "$dir/time.txt" || true
python3 - "$dir" <<'PY'
import json, re, sys
d = sys.argv[1]
r = json.load(open(f"{d}/report/report.json"))
t = open(f"{d}/time.txt").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
wall = r["wall_seconds"]
m = r["stacks"][0]["metrics"]["all"]
print(f"requests: {m['requests']:.0f} in {wall:.1f} s wall -> {m['requests']/wall:.0f} user requests/s")
print(f"availability {100*m['availability']:.2f}%  p50 {1000*m['latency_p50']:.1f} ms  p99 {1000*m['latency_p99']:.1f} ms  "
      f"attempts/request {m['retry_amplification']:.2f}")
print(f"peak RSS: {rss/1024:.0f} MiB")
PY
