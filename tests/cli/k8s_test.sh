#!/usr/bin/env bash
# deploy/k8s as Kubernetes would run it, on this machine: the Indexed Job's command once per
# completion index (JOB_COMPLETION_INDEX set, as the Job controller sets it), then the merge
# Job's command, compared byte for byte with one process running the same sweep; and the fleet
# Deployment's arguments given to `brownout serve`. Seeds are cut from 100 to 2 to keep it short.
set -euo pipefail
bin=$(realpath "${1:?usage: k8s_test.sh BROWNOUT REPO}")
repo=${2:?usage: k8s_test.sh BROWNOUT REPO}
dir=$(mktemp -d)
trap 'kill "${serve_pid:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
python3 - "$repo/deploy/k8s" "$bin" "$dir" <<'PY'
import os, re, subprocess, sys, yaml
k8s, brownout, out = sys.argv[1:]
def shell_of(path):
    doc = yaml.safe_load(open(os.path.join(k8s, path)))
    container = doc["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "-c"], container["command"]
    return doc, container["args"][0]
def local(cmd):
    cmd = cmd.replace("/results", out).replace("--seeds 100", "--seeds 2")
    return re.sub(r"^brownout ", brownout + " ", cmd)
job, sim = shell_of("sim-job.yaml")
n = job["spec"]["completions"]
assert job["spec"]["completionMode"] == "Indexed"
assert f"--shard auto/{n}" in sim, "completions and --shard auto/N must agree"
for i in range(n):
    env = dict(os.environ, JOB_COMPLETION_INDEX=str(i))
    subprocess.run(["/bin/sh", "-c", local(sim)], env=env, check=True, stdout=subprocess.DEVNULL)
    assert os.path.exists(f"{out}/shard-{i}.json"), f"shard {i} wrote nothing"
_, merge = shell_of("merge-job.yaml")
subprocess.run(["/bin/sh", "-c", local(merge)], check=True, stdout=subprocess.DEVNULL)
whole = local(sim).replace(f"--shard auto/{n}", "").replace(f"{out}/shard-$JOB_COMPLETION_INDEX.json", f"{out}/whole.json")
subprocess.run(["/bin/sh", "-c", whole], check=True, stdout=subprocess.DEVNULL)
assert open(f"{out}/sim.json").read() == open(f"{out}/whole.json").read(), "merged shards differ from one process"
assert os.path.getsize(f"{out}/sim.html") > 0 and os.path.getsize(f"{out}/sim.csv") > 0
# The fleet: its arguments as the Deployment gives them, $(EPOCH) expanded as Kubernetes does.
docs = list(yaml.safe_load_all(open(os.path.join(k8s, "fleet.yaml"))))
deployment = next(d for d in docs if d["kind"] == "Deployment")
container = deployment["spec"]["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in container["env"]}
import time
env["EPOCH"] = str(int(time.time()) - 10)  # the manifest's is a date to edit; serve needs it past
args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in container["args"]]
args = [a.replace("0.0.0.0:8080", "127.0.0.1:0").replace("/tmp/ready.json", f"{out}/ready.json") for a in args]
open(f"{out}/fleet-args", "w").write("\n".join(args))
service = next(d for d in docs if d["kind"] == "Service")
assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
PY
mapfile -t args < "$dir/fleet-args"
"$bin" "${args[@]}" 2> "$dir/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [ -s "$dir/ready.json" ] && break; sleep 0.1; done
[ -s "$dir/ready.json" ] || { cat "$dir/serve.log"; echo "the fleet's serve never became ready"; exit 1; }
echo "k8s: ok"
