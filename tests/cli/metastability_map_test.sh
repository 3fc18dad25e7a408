#!/usr/bin/env bash
# The metastability map's corners (scenarios/papers/metastability-map.toml): without retries no
# (load, trigger) point is ever metastable; with immediate retries a heavy load after a
# two-minute trigger is, and a light one is not — the boundary exists with retries and vanishes
# without them. Budgeted, jittered retries (failover) stay on the safe side.
set -euo pipefail
bin=${1:?usage: metastability_map_test.sh BROWNOUT SCENARIO}
scenario=${2:?usage: metastability_map_test.sh BROWNOUT SCENARIO}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" sim "$scenario" --seeds 2 --metric all.metastable \
  --sweep workload.rate=6000/h,14000/h --sweep providers.primary.phases.0.end=15m05s,17m \
  --json "$dir/map.json" --html "$dir/map.html" > "$dir/out.txt"
grep -q "all.metastable, mean over the seeds" "$dir/out.txt" || { cat "$dir/out.txt"; exit 1; }
python3 - "$dir/map.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["metric"] == "all.metastable"
def share(point, client):
    stack = next(s for s in point["stacks"] if s["client"] == client)
    return stack["summary"]["all.metastable"]["mean"]
cells = {(p["settings"]["workload.rate"], p["settings"]["providers.primary.phases.0.end"]): p for p in doc["points"]}
for key, p in cells.items():
    assert share(p, "naive") == 0, f"naive metastable at {key}"
    assert share(p, "failover") == 0, f"failover metastable at {key}"
assert share(cells[("14000/h", "17m")], "retry-storm") >= 0.5, "no metastable corner with retries"
assert share(cells[("6000/h", "17m")], "retry-storm") == 0
assert share(cells[("6000/h", "15m05s")], "retry-storm") == 0
PY
"$bin" sim "$scenario" --metric all.nonsense > /dev/null 2> "$dir/err.txt" && exit 1
grep -q "expected PHASE.METRIC" "$dir/err.txt" || { cat "$dir/err.txt"; exit 1; }
echo "metastability map: ok"
