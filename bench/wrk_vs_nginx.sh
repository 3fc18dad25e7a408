#!/usr/bin/env bash
# Macro benchmark: `brownout serve` (one server thread, zero latency) against nginx (one worker)
# returning a fixed body of the same size, both driven by wrk with POST, keep-alive and 64
# connections on this machine. Target (issue 13): at least 0.8 of nginx's requests a second.
#
#   ./bench/wrk_vs_nginx.sh [DURATION_SECONDS] [BROWNOUT_BINARY]   (default 15, this build's)
#
# A second binary (an earlier commit's build) lets two versions be alternated the same hour: the
# VM's speed moves between runs, so only figures taken side by side compare.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
install_debian_packages "${DEBIAN_PACKAGES[@]}" wrk nginx-light
build

seconds=${1:-15}
bin=${2:-$BROWNOUT}
dir=$(mktemp -d)
cleanup() {
  [ -n "${mock:-}" ] && kill "$mock" 2>/dev/null || true
  [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$bin" serve "$ROOT/bench/instant.toml" --listen 127.0.0.1:0 --threads 1 --ready-file "$dir/ready.json" 2>"$dir/mock.log" &
mock=$!
for _ in $(seq 1 100); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
url=$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$dir/ready.json")
body=$(curl -s "$url/v1/chat/completions" -H 'content-type: application/json' \
  -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$ROOT/bench/wrk_post.lua")")
size=${#body}

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
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 200 '$body'; }
  }
}
NGINX
nginx -c "$dir/nginx.conf" -p "$dir"
sleep 0.3
nginx_size=$(curl -s -X POST "http://127.0.0.1:$port/v1/chat/completions" -d '{}' | wc -c)

run() { wrk -t2 -c64 -d"${seconds}s" -s "$ROOT/bench/wrk_post.lua" "$1/v1/chat/completions"; }
log "wrk against nginx ($nginx_size-byte body)"
nginx_out=$(run "http://127.0.0.1:$port")
echo "$nginx_out"
log "wrk against brownout serve ($size-byte body)"
mock_out=$(run "$url")
echo "$mock_out"

rps() { echo "$1" | awk '/Requests\/sec/ {print $2}'; }
errors() { echo "$1" | awk '/Non-2xx|Socket errors/ {print}'; }
n=$(rps "$nginx_out"); m=$(rps "$mock_out")
ratio=$(python3 -c "print(f'{$m/$n:.2f}')")
echo
echo "nginx:    $n req/s  $(errors "$nginx_out")"
echo "brownout: $m req/s  $(errors "$mock_out")"
echo "ratio brownout/nginx: $ratio (target >= 0.8, issue 13)"
curl -s "$url/metrics" | grep '^brownout_attempts_total'
