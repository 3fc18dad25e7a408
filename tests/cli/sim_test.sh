#!/usr/bin/env bash
# brownout sim as a user runs it: many seeds in virtual time, a JSON summary, exit codes.
set -euo pipefail
bin=${1:?usage: sim_test.sh BROWNOUT SCENARIO}
scenario=${2:?usage: sim_test.sh BROWNOUT SCENARIO}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" sim "$scenario" --seeds 3 --seed 7 --json "$dir/sim.json" > "$dir/out.txt"
grep -q "3 seeds (7…9), virtual time" "$dir/out.txt" || { cat "$dir/out.txt"; echo "no seed line"; exit 1; }
grep -q "failover beats sdk-default on 3 of 3 seeds" "$dir/out.txt" || { cat "$dir/out.txt"; echo "no paired line"; exit 1; }
python3 - "$dir/sim.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["mode"] == "sim" and doc["seeds"] == [7, 8, 9], doc["seeds"]
stacks = {s["client"]: s for s in doc["stacks"]}
assert set(stacks) == {"naive", "sdk-default", "retry-storm", "failover"}, stacks.keys()
assert all(len(s["scores"]) == 3 for s in stacks.values())
assert stacks["failover"]["summary"]["all.score"]["mean"] > 90
PY
set +e
"$bin" sim "$dir/missing.toml" > /dev/null 2> "$dir/err.txt"; rc=$?
set -e
[ "$rc" = 2 ] || { echo "a missing scenario exited $rc, not 2"; exit 1; }
"$bin" sim "$scenario" --seeds 0 > /dev/null 2>&1 && { echo "--seeds 0 accepted"; exit 1; }
echo "sim: ok"
