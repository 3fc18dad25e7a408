#!/usr/bin/env bash
# Where a served request's time goes, in two measures that hold still on a VM whose speed moves:
#   CPU  — user and system CPU microseconds a request of `brownout serve` (one thread,
#          bench/instant.toml) and of nginx (one worker, a fixed body of the same size), each
#          under the same wrk load, from /proc/PID/stat; the server is the bottleneck for both,
#          so the ratio of the totals is the ratio of what each can serve.
#   --instructions — callgrind's instructions a request of `brownout serve` under wrk (16
#          connections, 15 s), the figure bench/README.md tracks step by step; OUT keeps the
#          profile for callgrind_annotate.
#
#   ./bench/serve_cpu.sh [SECONDS] [BROWNOUT_BINARY]
#   ./bench/serve_cpu.sh --instructions OUT [BROWNOUT_BINARY]
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
install_debian_packages "${DEBIAN_PACKAGES[@]}" wrk nginx-light valgrind
build

mode=cpu
if [ "${1:-}" = "--instructions" ]; then
  mode=instructions
  profile=${2:?--instructions needs a file for the profile}
  bin=${3:-$BROWNOUT}
else
  seconds=${1:-8}
  bin=${2:-$BROWNOUT}
fi
dir=$(mktemp -d)
cleanup() {
  [ -n "${mock:-}" ] && kill -INT "$mock" 2>/dev/null || true
  [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
post() { wrk "$@" -s "$ROOT/bench/wrk_post.lua"; }

serve() {  # the mock, under valgrind when asked
  local prefix=()
  [ "$mode" = instructions ] && prefix=(valgrind --tool=callgrind "--callgrind-out-file=$profile")
  "${prefix[@]}" "$bin" serve "$ROOT/bench/instant.toml" --listen 127.0.0.1:0 --threads 1 \
    --ready-file "$dir/ready.json" 2>"$dir/mock.log" &
  mock=$!
  for _ in $(seq 1 300); do [ -s "$dir/ready.json" ] && break; sleep 0.1; done
  url=$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$dir/ready.json")
}

if [ "$mode" = instructions ]; then
  serve
  n=$(post -t1 -c16 -d15s "$url/v1/chat/completions" | awk '/requests in/ {print $1}')
  kill -INT "$mock"
  while kill -0 "$mock" 2>/dev/null; do sleep 0.2; done
  mock=
  total=$(callgrind_annotate "$profile" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "requests $n, instructions $total, $((total / n)) a request (start-up included)"
  exit 0
fi

serve
body=$(curl -s "$url/v1/chat/completions" -H 'content-type: application/json' \
  -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$ROOT/bench/wrk_post.lua")")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/nginx.conf" <<NGINX
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir;
  server { listen 127.0.0.1:$port; location / { default_type application/json; return 200 '$body'; } }
}
NGINX
nginx -c "$dir/nginx.conf" -p "$dir"
sleep 0.3
worker=$(pgrep -P "$(cat "$dir/nginx.pid")")
tick=$(getconf CLK_TCK)
measure() {  # PID URL NAME
  local u0 s0 u1 s1 n
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$1/stat")
  n=$(post -t2 -c64 -d"${seconds}s" "$2/v1/chat/completions" | awk '/requests in/ {print $1}')
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$1/stat")
  python3 -c "n=$n; u=($u1-$u0)/$tick; s=($s1-$s0)/$tick
print(f'$3: {n/$seconds:8.0f} req/s, CPU a request: user {u/n*1e6:5.2f} us, system {s/n*1e6:5.2f} us, total {(u+s)/n*1e6:5.2f} us')"
}
measure "$worker" "http://127.0.0.1:$port" "nginx   "
measure "$mock" "$url" "brownout"
