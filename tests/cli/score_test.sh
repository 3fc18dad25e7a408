#!/usr/bin/env bash
# brownout score DIR: a run's reports rebuilt from what it wrote as it went. A finished run gives
# the same report.json; a run killed with SIGKILL is scored up to its last flushed request and
# marked partial; a line cut by the kill is skipped; a directory that is not a run is exit 2.
set -euo pipefail
bin=$(realpath "${1:?usage: score_test.sh BROWNOUT}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/s.toml" <<'TOML'
[scenario]
name = "scored-later"
duration = "2h"
time_scale = 240
seed = 9
[workload]
rate = "3000/h"
[[providers]]
id = "primary"
latency = { ttft = "200ms", tokens_per_second = 100 }
  [[providers.phases]]
  start = "20m"
  end = "50m"
  fault = "busy"
  rate = 0.6
[[providers]]
id = "fallback"
dialect = "anthropic"
[[expect]]
client = "failover"
metric = "availability"
phase = "incident"
min = 0.5
TOML

# A finished run, scored again from its files: the same report.
# (×600: 12 s of wall time; a faster scale fails requests on a busy machine for no other reason.)
"$bin" run "$dir/s.toml" --time-scale 600 --report-dir "$dir/done" > "$dir/run.txt" \
  || { cat "$dir/run.txt"; echo "the run failed"; exit 1; }
cp "$dir/done/report.json" "$dir/report-of-run.json"
grep -q '"finished":true' "$dir/done/run.json" || { echo "run.json not finished"; exit 1; }
"$bin" score "$dir/done" > "$dir/score.txt"
python3 - "$dir/report-of-run.json" "$dir/done/report.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
a.pop("wall_seconds"); b.pop("wall_seconds")
assert a == b, "score DIR gave another report than the run"
PY
diff <(grep -v "^reports:" "$dir/run.txt") <(grep -v "^reports:" "$dir/score.txt") \
  || { echo "score printed another table"; exit 1; }

# Killed outright: scored on what was flushed, marked partial.
"$bin" run "$dir/s.toml" --report-dir "$dir/killed" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ -f "$dir/killed/users.jsonl" ] && [ "$(wc -l < "$dir/killed/users.jsonl")" -gt 400 ] && break
  sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
grep -q '"finished":false' "$dir/killed/run.json" || { echo "a killed run says finished"; exit 1; }
[ ! -f "$dir/killed/report.json" ] || { echo "the killed run wrote a report"; exit 1; }
printf '{"client":"failover","id":99999,"arrival_ns":' >> "$dir/killed/users.jsonl"  # cut by the kill
set +e
"$bin" score "$dir/killed" > "$dir/killed.txt" 2>&1
rc=$?
set -e
[ "$rc" -le 1 ] || { cat "$dir/killed.txt"; echo "score of a killed run exited $rc"; exit 1; }
grep -q "did not finish; scoring the [0-9]* requests" "$dir/killed.txt" || { cat "$dir/killed.txt"; exit 1; }
python3 - "$dir/killed/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["partial"] is True
for s in r["stacks"]:
    n = s["metrics"]["all"]["requests"]
    assert 100 <= n < 3000 * 2, (s["client"], n)  # what was flushed, not the whole workload
    assert s["metrics"]["steady"]["availability"] > 0.9, s["metrics"]["steady"]  # no unsent user counted
PY

# Scored into another directory: the reports go there, and the summary names the run's own
# attempts.jsonl, which stays where the run wrote it.
"$bin" score "$dir/done" --report-dir "$dir/elsewhere" > "$dir/elsewhere.txt"
[ -f "$dir/elsewhere/report.json" ] || { cat "$dir/elsewhere.txt"; echo "no report in --report-dir"; exit 1; }
grep -q "reports: .*elsewhere/report.json .*done/attempts.jsonl" "$dir/elsewhere.txt" \
  || { cat "$dir/elsewhere.txt"; echo "the summary names an attempts.jsonl that is not there"; exit 1; }

# Not a run directory.
set +e
"$bin" score "$dir" > /dev/null 2> "$dir/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "not a run directory" "$dir/err" || { cat "$dir/err"; echo "exit $rc"; exit 1; }
echo ok
