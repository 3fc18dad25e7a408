#!/usr/bin/env bash
# Macro benchmark (issue 13, item 5): how a long run's peak memory grows with its requests.
#   ./bench/run_memory.sh [sim|run]        (default sim)
# Runs bench/run_memory.toml (24 h at 10,000 requests an hour through failover) for 12 h and for
# the whole day, and prints each peak RSS and the growth per request between the two: what one
# more request costs once start-up is paid. Then the same with failover's response cache off:
# the cache is the simulated client's own memory (each new question's answer for an hour, and
# its newest for stale answers), not brownout's, and is shown apart.
# `sim` runs in virtual time (seconds); `run` runs the real fleet over sockets at the file's
# time scale (1440: a minute for the day, 4,000 requests a wall second at 10,000 an hour).
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
install_debian_packages "${DEBIAN_PACKAGES[@]}" time
build
mode=${1:-sim}
case "$mode" in sim|run) ;; *) echo "usage: $0 [sim|run]" >&2; exit 2 ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# measure NAME DURATION CACHE: prints "requests peak_kib"
measure() {
  local file="$dir/$1.toml"
  sed -e "s/^duration = \"24h\"/duration = \"$2\"/" "$ROOT/bench/run_memory.toml" > "$file"
  if [ "$3" = off ]; then sed -i 's/^policy = "failover"/policy = "failover"\ncache = false/' "$file"; fi
  if [ "$mode" = sim ]; then
    /usr/bin/time -f "%M" -o "$dir/$1.rss" "$BROWNOUT" sim "$file" --metric all.requests \
      --json "$dir/$1.json" > /dev/null
    python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["stacks"][0]["runs"][0]["all.requests"]))' \
      "$dir/$1.json"
  else
    /usr/bin/time -f "%M" -o "$dir/$1.rss" "$BROWNOUT" run "$file" --report-dir "$dir/$1" > /dev/null || true
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(int(r["stacks"][0]["metrics"]["all"]["requests"]))' \
      "$dir/$1/report.json"
  fi
  tail -1 "$dir/$1.rss"
}

for cache in off on; do
  set -- $(measure "short-$cache" 12h "$cache" | paste -sd' '); n1=$1; k1=$2
  set -- $(measure "day-$cache" 24h "$cache" | paste -sd' '); n2=$1; k2=$2
  python3 - "$mode" "$cache" "$n1" "$k1" "$n2" "$k2" <<'PY'
import sys
mode, cache, n1, k1, n2, k2 = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
per = (k2 - k1) * 1024 / (n2 - n1)
what = "brownout alone (failover's cache off)" if cache == "off" else "with failover's response cache (the client's memory)"
print(f"{mode}, {what}: 12 h {n1:,} requests {k1/1024:.0f} MiB peak; 24 h {n2:,} requests "
      f"{k2/1024:.0f} MiB peak; {per:.0f} bytes a request")
PY
done
