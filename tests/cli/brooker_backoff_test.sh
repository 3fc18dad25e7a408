#!/usr/bin/env bash
# Brooker's "Exponential Backoff And Jitter" reproduced (scenarios/papers/brooker-backoff.toml):
# the published shape at 50, 100 and 190 contending clients, on 30 seeds a point —
#   calls: none > exponential > the jittered three; full near the fewest; equal about as many as
#          full; decorrelated more than full; without backoff the calls per client grow with N
#          (the work with N²);
#   time:  exponential the slowest, by more than 10x the fastest jittered kind; equal slower
#          than full; decorrelated faster than full at some N ("sometimes less time").
set -euo pipefail
bin=${1:?usage: brooker_backoff_test.sh BROWNOUT SCENARIO}
scenario=${2:?usage: brooker_backoff_test.sh BROWNOUT SCENARIO}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for metric in all.retry_amplification all.latency_max; do
  "$bin" sim "$scenario" --seeds 30 --metric "$metric" \
    --sweep workload.bursts.0.requests=50,100,190 --json "$dir/$metric.json" > "$dir/out.txt" \
    || { cat "$dir/out.txt"; exit 1; }
done
# Every client succeeds before its deadline, at the most contended point (on fewer seeds: the
# check is that none fails, not a mean).
"$bin" sim "$scenario" --seeds 5 --metric all.availability --sweep workload.bursts.0.requests=190 \
  --json "$dir/all.availability.json" > "$dir/out.txt" || { cat "$dir/out.txt"; exit 1; }
python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
def table(metric):
    doc = json.load(open(os.path.join(d, metric + ".json")))
    return {int(p["settings"]["workload.bursts.0.requests"]):
            {s["client"]: s["summary"][metric]["mean"] for s in p["stacks"]} for p in doc["points"]}
calls, time = (table(m) for m in ("all.retry_amplification", "all.latency_max"))
answered = table("all.availability")[190]
assert all(v == 1 for v in answered.values()), f"190: a client never succeeded {answered}"
jittered = ("full", "equal", "decorrelated")
for n in (50, 100, 190):
    c, t = calls[n], time[n]
    print(f"{n:4} clients  calls/client " + "  ".join(f"{k} {v:.2f}" for k, v in c.items()))
    print(f"{n:4} clients  completion s " + "  ".join(f"{k} {v:.2f}" for k, v in t.items()))
    assert c["none"] > c["exponential"] > max(c[k] for k in jittered), f"{n}: calls {c}"
    assert c["full"] <= 1.05 * min(c.values()), f"{n}: full jitter is not near the fewest calls {c}"
    assert abs(c["equal"] - c["full"]) <= 0.1 * c["full"], f"{n}: equal and full differ {c}"
    assert c["decorrelated"] > c["full"], f"{n}: decorrelated made no more calls than full {c}"
    assert t["exponential"] == max(t.values()), f"{n}: exponential is not the slowest {t}"
    assert t["exponential"] > 10 * min(t[k] for k in jittered), f"{n}: not 10x slower {t}"
    assert t["equal"] > t["full"], f"{n}: equal jitter is not slower than full {t}"
assert any(time[n]["decorrelated"] < time[n]["full"] for n in calls), "decorrelated never faster"
assert calls[190]["none"] > 0.8 * (190 / 50) * calls[50]["none"], "no-backoff work is not N²"
print("Brooker 2015 shape: ok")
PY
