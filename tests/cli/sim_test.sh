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

# A sweep over two keys, sharded three ways as a Kubernetes Indexed Job runs it (the index from
# JOB_COMPLETION_INDEX), merged: the same report as one process, byte for byte.
sweep=(--sweep clients.sdk-default.max_retries=0,2 --sweep providers.deepseek.phases.0.rate.to=0.5,1.0
       --client naive --client sdk-default --seeds 2 --seed 3)
"$bin" sim "$scenario" "${sweep[@]}" --json "$dir/whole.json" --csv "$dir/whole.csv" \
  --html "$dir/whole.html" > "$dir/whole.txt"
grep -q "A=2 B=1.0" "$dir/whole.txt" || { cat "$dir/whole.txt"; echo "no sweep row"; exit 1; }
for i in 0 1 2; do
  JOB_COMPLETION_INDEX=$i "$bin" sim "$scenario" "${sweep[@]}" --shard auto/3 \
    --json "$dir/shard-$i.json" > "$dir/shard-$i.txt"
  grep -q "shard $i/3" "$dir/shard-$i.txt" || { cat "$dir/shard-$i.txt"; echo "no shard line"; exit 1; }
done
"$bin" merge "$dir/shard-2.json" "$dir/shard-0.json" "$dir/shard-1.json" --json "$dir/merged.json" \
  --csv "$dir/merged.csv" > "$dir/merged.txt"
cmp "$dir/whole.json" "$dir/merged.json" || { echo "merged JSON differs from the single run"; exit 1; }
cmp "$dir/whole.csv" "$dir/merged.csv" || { echo "merged CSV differs from the single run"; exit 1; }
diff <(tail -n +2 "$dir/whole.txt") <(tail -n +2 "$dir/merged.txt") || { echo "merged table differs"; exit 1; }
set +e
"$bin" merge "$dir/shard-0.json" "$dir/shard-1.json" > /dev/null 2> "$dir/err.txt"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "shard 2/3 missing" "$dir/err.txt" || { cat "$dir/err.txt"; echo "a missing shard was not an error"; exit 1; }
python3 - "$dir" <<'PY'
import csv, json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
doc = json.load(open(f"{d}/whole.json"))
assert doc["schema_version"] == 2 and len(doc["points"]) == 4, doc.keys()
assert doc["points"][3]["settings"] == {"clients.sdk-default.max_retries": "2",
                                       "providers.deepseek.phases.0.rate.to": "1.0"}
rows = list(csv.DictReader(open(f"{d}/whole.csv")))
score = [r for r in rows if r["metric"] == "score" and r["client"] == "sdk-default"]
assert len(score) == 4 and all(r["n"] == "2" for r in score), score
# The heatmaps are well-formed SVG: one for the grid of points, one per stack for two axes.
html = open(f"{d}/whole.html").read()
svgs = [html[i:html.index("</svg>", i) + 6] for i in range(len(html)) if html.startswith("<svg", i)]
assert len(svgs) == 3, len(svgs)
for svg in svgs:
    ET.fromstring(svg)
PY
"$bin" sim "$scenario" --sweep clients.nope.max_retries=1 > /dev/null 2> "$dir/err.txt" && exit 1
grep -q 'no element "nope" in clients' "$dir/err.txt" || { cat "$dir/err.txt"; echo "bad sweep path"; exit 1; }

set +e
"$bin" sim "$dir/missing.toml" > /dev/null 2> "$dir/err.txt"; rc=$?
set -e
[ "$rc" = 2 ] || { echo "a missing scenario exited $rc, not 2"; exit 1; }
"$bin" sim "$scenario" --seeds 0 > /dev/null 2>&1 && { echo "--seeds 0 accepted"; exit 1; }
echo "sim: ok"
