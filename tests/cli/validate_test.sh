#!/usr/bin/env bash
# brownout validate: exit 0 on good files, 2 with file:line:col: key: message on bad ones.
set -uo pipefail
bin=$1
here=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/good.toml" <<'TOML'
[scenario]
name = "good"
[[providers]]
id = "openai"
TOML
cat > "$dir/bad.toml" <<'TOML'
[scenario]
name = "bad"
[[providers]]
id = "openai"
latency = { ttft = "quick" }
TOML
"$bin" validate "$dir/good.toml" || { echo "good file refused"; exit 1; }
out=$("$bin" validate "$dir/bad.toml" 2>&1); rc=$?
[ $rc -eq 2 ] || { echo "expected exit 2, got $rc"; exit 1; }
echo "$out" | grep -qF "$dir/bad.toml:5:20: providers[0].latency.ttft:" || { echo "unexpected message: $out"; exit 1; }
"$bin" validate "$dir/missing.toml" 2>/dev/null; [ $? -eq 2 ] || { echo "missing file not exit 2"; exit 1; }
"$bin" bogus 2>/dev/null; [ $? -eq 2 ] || { echo "unknown command not exit 2"; exit 1; }
echo ok
