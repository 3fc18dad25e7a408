#!/usr/bin/env bash
# Every scenario in the library validates, and `brownout scenarios` lists each with its title.
set -uo pipefail
bin=$1
dir=$2
"$bin" validate "$dir"/*.toml "$dir"/*/*.toml || { echo "a library scenario does not validate"; exit 1; }
listing=$("$bin" scenarios --dir "$dir")
echo "$listing"
if echo "$listing" | grep -q "(invalid"; then echo "invalid scenario listed"; exit 1; fi
count=$(ls "$dir"/*.toml "$dir"/*/*.toml | wc -l)
[ "$(echo "$listing" | wc -l)" -eq "$count" ] || { echo "listing does not match the $count files"; exit 1; }
[ "$count" -ge 7 ] || { echo "the library should hold the DeepSeek scenario and at least five more"; exit 1; }
echo "$listing" | grep -q "^deepseek-2025-05-08 " || { echo "the motivating scenario is missing"; exit 1; }
echo "$listing" | grep -q "^papers/sre-retry-budget " || { echo "papers/ is not listed by the name run takes"; exit 1; }
echo ok
