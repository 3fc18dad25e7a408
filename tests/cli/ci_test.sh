#!/usr/bin/env bash
# ci/brownout-ci.sh, the one step the GitHub Action and the GitLab template run: the exit code
# gates the job (0 held, 1 an expectation failed, 2 a scenario error), the reports stay, and on
# GitHub the score table goes to the job summary.
set -euo pipefail
bin=$(realpath "${1:?usage: ci_test.sh BROWNOUT REPO}")
repo=${2:?usage: ci_test.sh BROWNOUT REPO}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/stack.toml" <<'TOML'
[scenario]
name = "ci-gate"
duration = "10m"
time_scale = 600
seed = 3
[workload]
rate = "600/h"
[[providers]]
id = "primary"
latency = { ttft = "300ms", tokens_per_second = 100 }
  [[providers.phases]]
  start = "3m"
  end = "6m"
  fault = "outage"
[[providers]]
id = "fallback"
dialect = "gemini"
[[clients]]
name = "failover"
policy = "failover"
providers = ["primary", "fallback"]
[[expect]]
client = "failover"
metric = "availability"
phase = "incident"
min = 0.95
TOML
cd "$dir"  # an unrelated directory, as a pipeline's checkout of another project
export GITHUB_STEP_SUMMARY="$dir/summary.md"
BROWNOUT="$bin" "$repo/ci/brownout-ci.sh" stack.toml out > log.txt 2>&1 || { cat log.txt; echo "a passing gate exited $?"; exit 1; }
for f in report.json junit.xml report.html attempts.jsonl; do
  [ -s "out/$f" ] || { echo "no $f"; exit 1; }
done
grep -q "### brownout: ci-gate — every expectation held" summary.md || { cat summary.md; exit 1; }
grep -q "| failover |" summary.md || { cat summary.md; exit 1; }

# The same stack without its fallback fails the gate: exit 1, the failure in JUnit and summary.
sed -e 's/providers = \["primary", "fallback"\]/providers = ["primary"]/' stack.toml > broken.toml
set +e
BROWNOUT="$bin" "$repo/ci/brownout-ci.sh" broken.toml out2 > log2.txt 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || { cat log2.txt; echo "a failing gate exited $rc, not 1"; exit 1; }
grep -q "<failure" out2/junit.xml || { echo "no JUnit failure"; exit 1; }
grep -q "an expectation failed" summary.md && grep -q "✗ failover availability" summary.md || { cat summary.md; exit 1; }

# A scenario error is 2, before anything runs.
echo "[scenario]" > bad.toml
set +e
BROWNOUT="$bin" "$repo/ci/brownout-ci.sh" bad.toml out3 > log3.txt 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || { cat log3.txt; echo "a bad scenario exited $rc, not 2"; exit 1; }
echo "ci: ok"
