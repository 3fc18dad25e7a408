#!/usr/bin/env bash
# The image's entry script (deploy/entrypoint.sh), run directly: with arguments it is brownout;
# without, a CI service serving BROWNOUT_SCENARIO on BROWNOUT_PORT that writes its ready file
# (the health check) and answers. With BROWNOUT_CONTAINER_TEST=1 and podman, the same through a
# real image built by deploy/build-image.sh (minutes: a Debian base, a compile): a service
# container waited on by its health check and answering from outside, and a job step that runs a
# scenario from a mounted directory and leaves its reports there.
set -euo pipefail
bin=$(realpath "${1:?usage: container_test.sh BROWNOUT REPO}")
repo=$(realpath "${2:?usage: container_test.sh BROWNOUT REPO}")
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
mkdir -p "$dir/bin"
ln -s "$bin" "$dir/bin/brownout"
export PATH="$dir/bin:$PATH"

# Arguments pass through.
"$repo/deploy/entrypoint.sh" --version | grep -q "^brownout " || { echo "arguments not passed"; exit 1; }

# No arguments: a service from the environment.
BROWNOUT_SCENARIO=healthy BROWNOUT_PORT=0 BROWNOUT_READY_FILE="$dir/ready.json" \
  BROWNOUT_TIME_SCALE=30 "$repo/deploy/entrypoint.sh" 2> "$dir/log" &
pid=$!
for _ in $(seq 1 200); do [ -s "$dir/ready.json" ] && break; sleep 0.05; done
[ -s "$dir/ready.json" ] || { echo "no ready file"; cat "$dir/log"; exit 1; }
grep -q "time scale 30" "$dir/log" || { echo "BROWNOUT_TIME_SCALE not applied"; cat "$dir/log"; exit 1; }
url=$(grep -o '"url":"[^"]*"' "$dir/ready.json" | head -1 | cut -d'"' -f4)  # the first provider
body=$(curl -sf "$url/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')
echo "$body" | grep -q '"object":"chat.completion"' || { echo "bad answer: $body"; exit 1; }
curl -sf "$url/healthz" | grep -q '"status":"ok"' || { echo "no health endpoint"; exit 1; }
kill -TERM "$pid"
wait "$pid" || { echo "serve exited $? on SIGTERM"; exit 1; }
pid=
echo "entry script ok"

if [ "${BROWNOUT_CONTAINER_TEST:-}" != 1 ]; then
  echo "the image itself: set BROWNOUT_CONTAINER_TEST=1 (needs podman; builds the image)"
  exit 0
fi
image=${BROWNOUT_IMAGE:-localhost/brownout:test}
read -r -a flags <<< "${PODMAN_RUNTIME_FLAGS---runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096}"
[ -n "${BROWNOUT_IMAGE:-}" ] || "$repo/deploy/build-image.sh" "$image"
name="brownout-test-$$"
trap 'podman rm -f "$name" >/dev/null 2>&1; rm -rf "$dir"' EXIT
podman run "${flags[@]}" -d --name "$name" -p 127.0.0.1:18080:8080 \
  -e BROWNOUT_SCENARIO=healthy "$image" > /dev/null
for _ in $(seq 1 100); do
  podman healthcheck run "$name" > /dev/null 2>&1 && break
  sleep 0.2
done
podman healthcheck run "$name" > /dev/null || { podman logs "$name"; echo "never healthy"; exit 1; }
body=$(curl -sf "http://127.0.0.1:18080/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')
echo "$body" | grep -q '"object":"chat.completion"' || { echo "bad answer from the container: $body"; exit 1; }
curl -sf "http://127.0.0.1:18080/healthz" | grep -q '"status":"ok"' || { echo "no health endpoint from outside"; exit 1; }
podman rm -f "$name" > /dev/null

# A job step: a scenario from the checkout, the reports left beside it.
cat > "$dir/gate.toml" <<'TOML'
[scenario]
name = "container-gate"
duration = "10m"
time_scale = 600
[[providers]]
id = "primary"
  [[providers.phases]]
  start = "3m"
  end = "6m"
  fault = "outage"
[[providers]]
id = "fallback"
dialect = "anthropic"
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
chmod 777 "$dir"
podman run "${flags[@]}" --rm -v "$dir:/work:Z" -w /work "$image" run gate.toml --report-dir out \
  > "$dir/job.log" 2>&1 || { cat "$dir/job.log"; echo "the job step failed"; exit 1; }
grep -q '"partial":false' "$dir/out/report.json" || { echo "no report in the mounted directory"; exit 1; }
echo "image ok: $image"
