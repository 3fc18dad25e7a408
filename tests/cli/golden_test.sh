#!/usr/bin/env bash
# scripts/golden compare: a score that moves past the tolerance, or a changed exit code, fails.
set -euo pipefail
golden=${1:?usage: golden_test.sh SCRIPTS_GOLDEN}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
report() {  # DIR SCORE
  mkdir -p "$1/s"
  cat > "$1/s/report.json" <<JSON
{"stacks":[{"client":"failover","score":$2,"metrics":{"all":{"availability":0.9,"retry_amplification":1.1}}}]}
JSON
}
report "$dir/a" 80.0; echo "s 0" > "$dir/a/exits"
report "$dir/b" 81.5; echo "s 0" > "$dir/b/exits"
report "$dir/c" 84.0; echo "s 0" > "$dir/c/exits"
report "$dir/d" 80.0; echo "s 1" > "$dir/d/exits"
"$golden" compare "$dir/a" "$dir/b" | grep -q "| s | failover | 80.0 | 81.5 |" || { echo "table row missing"; exit 1; }
if "$golden" compare "$dir/a" "$dir/c" > /dev/null; then echo "a 4-point move passed"; exit 1; fi
"$golden" compare "$dir/a" "$dir/c" --tolerance=5 > /dev/null || { echo "--tolerance ignored"; exit 1; }
if "$golden" compare "$dir/a" "$dir/d" > /dev/null; then echo "a changed exit code passed"; exit 1; fi
echo "golden compare: ok"
