#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on a copy of its committed seed corpus.
#   ./bench/fuzz.sh [SECONDS_PER_TARGET=60]
# A crash leaves its input in build/fuzz/crashes/<target>/ and makes the script exit 1; turn
# each into a regression test (tests/fuzz/regressions/) before fixing it.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
install_debian_packages "${DEBIAN_PACKAGES[@]}" clang libclang-rt-14-dev
PRESET=fuzz build
seconds=${1:-60}
failed=0
for target in scenario request control_fault stdio_line http_request http_response json_tape; do
  work="$ROOT/build/fuzz/corpus/$target"
  crashes="$ROOT/build/fuzz/crashes/$target"
  mkdir -p "$work" "$crashes"
  cp -n "$ROOT/tests/fuzz/corpus/$target/"* "$work/" 2>/dev/null || true
  log "fuzz_$target for ${seconds}s"
  if ! "$ROOT/build/fuzz/tests/fuzz/fuzz_$target" "$work" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
       -artifact_prefix="$crashes/" -print_final_stats=1 2> "$crashes/log.txt"; then
    failed=1
    echo "fuzz_$target found a problem: see $crashes/" >&2
  fi
  grep -E "^Done|^stat::peak_rss_mb|ERROR: |SUMMARY: " "$crashes/log.txt" | tr '\n' ' '; echo
done
exit $failed
