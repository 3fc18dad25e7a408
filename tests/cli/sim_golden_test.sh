#!/usr/bin/env bash
# Pins the simulator's numbers across refactors of its hot path (issue 10): every library
# scenario, paper and validity scenario (pairs.toml aside: its stacks are external) at seeds 1-3,
# compared byte for byte with tests/sim-golden/. Every score, availability and amplification is
# written at full double precision, so one attempt moved in time or one RNG draw out of order
# changes a file.
#   sim_golden_test.sh BROWNOUT ROOT            compare (exit 1 and a diff on the first change)
#   sim_golden_test.sh BROWNOUT ROOT --update   write the golden again (a change of behaviour that
#                                               is meant: say why in the commit)
set -euo pipefail
bin=${1:?usage: sim_golden_test.sh BROWNOUT ROOT [--update]}
root=${2:?usage: sim_golden_test.sh BROWNOUT ROOT [--update]}
update=${3:-}
golden=$root/tests/sim-golden
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$root"
failed=0
for f in scenarios/*.toml scenarios/papers/*.toml tests/validity/*.toml; do
  case $f in *pairs.toml) continue ;; esac
  name=$(echo "${f%.toml}" | tr / _)
  rc=0
  # At nice 10: nothing here is timed, and the suite's wall-clock tests (real SDKs, whole runs)
  # run beside it; it takes the CPU they leave.
  nice -n 10 "$bin" sim "$f" --seeds 3 --json "$dir/$name.json" > "$dir/$name.txt" 2>&1 || rc=$?
  # An [[expect]] may fail on purpose (exit 1); anything else is an error.
  [ $rc -le 1 ] || { cat "$dir/$name.txt"; echo "sim $f failed (exit $rc)"; exit 1; }
  if [ "$update" = --update ]; then
    cp "$dir/$name.json" "$golden/$name.json"
  elif ! cmp -s "$dir/$name.json" "$golden/$name.json"; then
    echo "$f: the simulator's numbers moved (tests/sim-golden/$name.json):"
    diff <(python3 -m json.tool "$golden/$name.json") <(python3 -m json.tool "$dir/$name.json") \
      | head -n 20 || true
    failed=1
  fi
done
[ -z "$update" ] || { echo "golden written to $golden"; exit 0; }
n=$(ls "$golden" | wc -l)
[ "$n" -ge 25 ] || { echo "only $n golden files"; exit 1; }
exit $failed
