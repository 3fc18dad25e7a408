// External client stacks end to end: `brownout run` with the official openai SDK as a stdio
// client, misbehaving stdio clients, the Portkey gateway, and a gateway that never starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lagOf } from './lag.mjs';

const bin = process.env.BROWNOUT_BIN;

// Runs a scenario (TOML text) and returns { code, stdout, report, attempts, wallSeconds }; a run
// that wrote no report fails with its exit status and everything it printed.
function run(toml) {
  const dir = mkdtempSync(join(tmpdir(), 'brownout-ext-'));
  const file = join(dir, 'scenario.toml');
  writeFileSync(file, toml);
  const started = Date.now();
  // BROWNOUT_TEST_RUN marks every process this run starts (children inherit it): orphans() looks
  // only for those, not for the same program started by a test running beside this one.
  const res = spawnSync(bin, ['run', file, '--report-dir', join(dir, 'report')],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, BROWNOUT_TEST_RUN: dir } });
  const wallSeconds = (Date.now() - started) / 1000;
  if (!existsSync(join(dir, 'report', 'report.json')))
    assert.fail(`brownout run wrote no report (exit ${res.status}, signal ${res.signal}, ${res.error ?? 'no spawn error'}):\n${res.stdout}${res.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8'));
  const attempts = readFileSync(join(dir, 'report', 'attempts.jsonl'), 'utf8').trim().split('\n')
    .filter((l) => l).map((l) => JSON.parse(l));
  return { code: res.status, stdout: res.stdout + res.stderr, report, attempts, wallSeconds, dir };
}

// The gaps, in scenario seconds, between the attempts of each request: an attempt with retry
// count k follows the latest one of the same content digest with k - 1 (two users may ask the
// same question, so the digest alone does not tell their retries apart).
function retryGaps(attempts, client) {
  const chains = [];
  const open = new Map();  // digest -> chains still growing
  const mine = attempts.filter((x) => x.client === client).sort((x, y) => x.at_ms - y.at_ms);
  for (const a of mine) {
    const list = open.get(a.digest) ?? [];
    if (a.retry_count === 0) {
      const chain = [a];
      chains.push(chain);
      list.push(chain);
    } else {
      const chain = list.findLast((c) => c.at(-1).retry_count === a.retry_count - 1);
      if (chain) chain.push(a);
    }
    open.set(a.digest, list);
  }
  // From the end of one attempt to the start of the next: the client's own wait, with the wait
  // the attempt before announced (0 when none).
  return chains.filter((c) => c.length > 1).map((c) => c.slice(1).map((t, i) => ({
    wait: (t.at_ms - c[i].at_ms - c[i].duration_ms) / 1000,
    announced: (c[i].retry_after_ms ?? 0) / 1000,
  })));
}

const fleet = `
[scenario]
name = "external"
duration = "6m"
time_scale = 30
seed = 9
[workload]
rate = "300/h"
deadline = "60s"
mix = [ { weight = 3, kind = "chat" }, { weight = 1, kind = "stream" } ]
[[providers]]
id = "deepseek"
vendor = "deepseek"
models = ["deepseek-chat"]
latency = { ttft = "2s", tokens_per_second = 50, jitter = 0 }
  [[providers.phases]]
  start = "2m"
  end = "4m"
  fault = "outage"
  message = "Server busy, please try again later."
[[providers]]
id = "openai"
models = ["gpt-4o-mini"]
latency = { ttft = "2s", tokens_per_second = 50, jitter = 0 }
`;

const stack = (name) => (report) => report.stacks.find((s) => s.client === name);
// The processes of one run (its BROWNOUT_TEST_RUN) still alive whose command line has `pattern`.
const orphans = (pattern, runDir) => {
  const alive = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (cmdline.includes(pattern) && environ.includes(`BROWNOUT_TEST_RUN=${runDir}`)) alive.push(`${pid} ${cmdline}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return alive.join('\n');
};

test('the official openai SDK as a stdio client: answers verified, outage failures counted', () => {
  // The provider requires an API key: the client gets it as BROWNOUT_DEEPSEEK_KEY, and neither
  // the report nor the output may show it.
  const key = 'sk-ds-secret-91b2c7';
  const { report, stdout } = run(`${fleet.replace('id = "deepseek"\n', `id = "deepseek"\napi_key = "${key}"\n`)}
[[clients]]
name = "openai-node"
kind = "stdio"
command = "node clients/openai-node/client.mjs"
ready_line = true
providers = ["deepseek"]
`);
  const s = stack('openai-node')(report);
  assert.ok(s, stdout);
  assert.equal(s.metrics.steady.availability, 1, stdout);
  assert.equal(s.metrics.all.wrong_answers, 0);
  assert.ok(s.metrics.incident.availability < 0.5, 'the only provider was down and the SDK has no fallback');
  assert.ok(s.metrics.incident.retry_amplification > 2, 'the SDK retried twice');
  assert.ok(s.notes.some((n) => n.includes('scenario time')), s.notes.join('; '));
  assert.ok(!stdout.includes('secret-91b2') && !JSON.stringify(report).includes('secret-91b2'), 'the key leaked');
});

test('the official Anthropic SDK as a stdio client: every kind verified, 529 storm retried and counted', () => {
  const { report, stdout } = run(`
[scenario]
name = "anthropic-external"
duration = "6m"
time_scale = 30
seed = 5
[workload]
rate = "400/h"
deadline = "60s"
mix = [ { weight = 2, kind = "chat" }, { weight = 1, kind = "stream" }, { weight = 1, kind = "vision" }, { weight = 1, kind = "tools" } ]
[[providers]]
id = "anthropic"
dialect = "anthropic"
models = ["claude-sonnet-4-5"]
api_key = "sk-ant-secret-55d1e0"
latency = { ttft = "2s", tokens_per_second = 50, jitter = 0 }
  [[providers.phases]]
  start = "2m"
  end = "4m"
  fault = "busy"
[[clients]]
name = "anthropic-node"
kind = "stdio"
command = "node clients/anthropic-node/client.mjs"
ready_line = true
providers = ["anthropic"]
`);
  const s = stack('anthropic-node')(report);
  assert.ok(s, stdout);
  assert.equal(s.metrics.steady.availability, 1, stdout);
  assert.equal(s.metrics.all.wrong_answers, 0);
  assert.ok(s.metrics.incident.availability < 0.5, 'the only provider was overloaded');
  assert.ok(s.metrics.incident.retry_amplification > 2, 'the SDK retried 529 twice');
  assert.ok(!stdout.includes('secret-55d1') && !JSON.stringify(report).includes('secret-55d1'), 'the key leaked');
});

test('misbehaving stdio clients are failures with a reason, the run goes on, nothing is left behind', () => {
  const { report, stdout, dir } = run(`${fleet}
[[clients]]
name = "garbage"
kind = "stdio"
command = "tests/sdk/misbehaving-client.sh garbage"
providers = ["deepseek"]
[[clients]]
name = "silent"
kind = "stdio"
command = "tests/sdk/misbehaving-client.sh silent"
providers = ["deepseek"]
[[clients]]
name = "late"
kind = "stdio"
command = "tests/sdk/misbehaving-client.sh late"
providers = ["deepseek"]
[[clients]]
name = "builtin"
policy = "failover"
providers = ["deepseek", "openai"]
`);
  const garbage = stack('garbage')(report);
  assert.equal(garbage.metrics.all.availability, 0, stdout);
  assert.ok(garbage.notes.some((n) => n.includes('exited')), JSON.stringify(garbage.notes));
  assert.ok(garbage.notes.some((n) => n.includes('not results')));
  assert.ok(garbage.notes.some((n) => n.includes('unknown or finished ids')));
  const silent = stack('silent')(report);
  assert.ok(silent.metrics.all.hung > 0, 'requests it never answered are hung');
  assert.ok(!silent.notes.some((n) => n.includes('hung requests after all')), JSON.stringify(silent.notes));
  // A client that falls behind is told apart from one that lost the requests.
  const late = stack('late')(report);
  assert.ok(late.metrics.all.hung > 0, stdout);
  const afterAll = late.notes.map((n) => n.match(/answered \d+ of its hung requests after all, up to (\d+)m(\d+)s after/)).find(Boolean);
  assert.ok(afterAll, JSON.stringify(late.notes));
  assert.ok(!late.notes.some((n) => n.includes('unknown or finished')), JSON.stringify(late.notes));
  assert.ok(Number(afterAll[1]) * 60 + Number(afterAll[2]) >= 150, afterAll[0]);  // it sleeps 150 s
  assert.ok(stack('builtin')(report).metrics.all.availability > 0.95, 'the other stacks ran undisturbed');
  assert.equal(orphans('misbehaving-client.sh', dir), '', 'every child was reaped');
});

test('Portkey with a fallback config keeps answering through the outage', () => {
  const config = JSON.stringify({
    strategy: { mode: 'fallback' },
    targets: [
      { provider: 'openai', api_key: 'sk-brownout', custom_host: '${BROWNOUT_DEEPSEEK_URL}/v1', override_params: { model: 'deepseek-chat' } },
      { provider: 'openai', api_key: 'sk-brownout', custom_host: '${BROWNOUT_OPENAI_URL}/v1', override_params: { model: 'gpt-4o-mini' } },
    ],
  });
  // Chat only: Portkey 1.15.2 on Node 20 answers every streamed request with
  // {"status":"failure"} ("TypeError: immutable" appending headers to a fetch Response) — its
  // bug, reproduced against a plain Node SSE server too; see clients/portkey/README.md.
  // 1200/h: forty users meet the outage, so one a busy machine delays past its deadline is not
  // a tenth of the measure.
  const { report, stdout, dir } = run(`${fleet.replace('mix = [ { weight = 3, kind = "chat" }, { weight = 1, kind = "stream" } ]', 'mix = [ { weight = 1, kind = "chat" } ]').replace('rate = "300/h"', 'rate = "1200/h"')}
[[clients]]
name = "portkey"
kind = "gateway"
command = "clients/portkey/start.sh {port}"
url = "http://127.0.0.1:{port}/v1"
model = "deepseek-chat"
providers = ["deepseek", "openai"]
headers = { x-portkey-config = '${config}' }
`);
  const s = stack('portkey')(report);
  assert.ok(s.metrics.incident.availability >= 0.9, stdout);
  assert.equal(s.metrics.all.wrong_answers, 0);
  assert.equal(orphans('start-server.js --port=', dir), '', 'the gateway was stopped');
});

test('a gateway that never becomes ready: its requests fail with the reason, the run completes', () => {
  const { report, code, dir } = run(`${fleet}
[[clients]]
name = "never"
kind = "gateway"
command = "sleep 300"
url = "http://127.0.0.1:{port}/v1"
ready_timeout = "1s"
providers = ["deepseek"]
`);
  const s = stack('never')(report);
  assert.equal(s.metrics.all.availability, 0);
  assert.ok(s.notes.some((n) => n.includes('never became ready')), JSON.stringify(s.notes));
  assert.equal(code, 0);
  assert.equal(orphans('sleep 300', dir), '', 'the command was stopped');
});

// External stacks in scenario time (libfaketime): twenty scenario minutes at time scale 360 take
// about three wall seconds, and the stacks' own timers keep their meaning in scenario seconds.
// The fault lasts the whole run: a child's start-up is scenario time too (0.1 s of Node start-up
// on a busy machine is 36 scenario seconds).
const squeeze = (phase, env = '') => `
[scenario]
name = "scenario-clock"
duration = "20m"
time_scale = 360
seed = 4
[workload]
rate = "120/h"
deadline = "5m"
repeat = 0                 # every question new: one request's retries are the attempts of its digest
mix = [ { weight = 1, kind = "chat" } ]
[[providers]]
id = "deepseek"
vendor = "deepseek"
models = ["deepseek-chat"]
latency = { ttft = "1s", tokens_per_second = 0, jitter = 0 }
  [[providers.phases]]
  start = "0s"
  ${phase}
[[clients]]
name = "openai-node"
kind = "stdio"
command = "${env}node clients/openai-node/client.mjs"
ready_line = true
providers = ["deepseek"]
`;

test('scenario time: the openai SDK backs off 0.5 s × 2^n (up to 25% less) in scenario seconds', () => {
  // Four retries (the client's default is the SDK's two): waits of 0.5, 1, 2 and 4 s.
  const { report, attempts, stdout } = run(squeeze('fault = "busy"\n  rate = 1.0', 'BROWNOUT_MAX_RETRIES=4 '));
  const s = stack('openai-node')(report);
  assert.ok(s.notes.some((n) => n.includes('warped')), s.notes.join('; '));
  const lag = lagOf(s);
  const gaps = retryGaps(attempts, 'openai-node');
  assert.ok(gaps.length >= 3, `requests with retries: ${gaps.length}\n${stdout}`);
  // openai 7: 0.5 s × 2^n, each up to 25% shorter (jitter). The lower bounds hold on any
  // machine: a delay only adds. What tells scenario from wall seconds must hold beside a stall of
  // the machine (lag.mjs), which the time scale multiplies as it would a wall-clock SDK's wait: a
  // Node client that stalled 0.3-1 wall s at a time made every first wait 100-344 scenario
  // seconds in a clean clone's suite, where a wall-clock SDK waits at least 135. So it is asked
  // of the fourth wait alone. A wall-clock SDK's fourth retry would come 5.6 wall seconds after
  // its first attempt at least, past the end of this 4-second run, so fewer than three requests
  // would get there; and a fourth wait it did make would be 3 wall seconds at least, 1,080
  // scenario seconds, three times the longest stall seen. (On the median: a single wait can
  // also fire early, Node's event loop caching its clock once an iteration.)
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const seen = `s (the stack's lag: ${JSON.stringify(lag)})`;
  for (const n of [0, 1, 2, 3]) {
    const waits = gaps.filter((c) => c.length > n).map((c) => c[n].wait);
    assert.ok(waits.length >= 3, `retries ${n}: ${waits.length}\n${stdout}`);
    const shortest = 0.5 * 2 ** n * 0.75;
    assert.ok(median(waits) >= shortest, `median wait ${n}: ${median(waits)} ${seen} of ${waits}`);
    if (n === 3) assert.ok(median(waits) < shortest * 360, `median wait ${n}: ${median(waits)} ${seen} of ${waits}`);
  }
});

test('scenario time: a Retry-After of 30 scenario seconds is honoured as 30 s', () => {
  const { attempts, stdout } = run(squeeze('fault = "busy"\n  status = 429\n  rate = 1.0\n  retry_after = "30s"'));
  const gaps = retryGaps(attempts, 'openai-node').flat();
  assert.ok(gaps.length >= 3, stdout);
  // The header says 30 (scenario seconds, the client's clock being warped) — or, for a retry
  // that met the key's throttle, what remained of it — and the SDK waits that: the median may
  // not come early. (A single wait may fire a little early; late, by the machine's delay, which
  // the time scale multiplies (lag.mjs), is allowed.) An SDK that read the header as wall
  // seconds would wait 10,800 scenario seconds, past the end of this run: no three retries.
  const early = gaps.map((g) => g.wait - g.announced).sort((a, b) => a - b);
  const mid = early[Math.floor(early.length / 2)];
  assert.ok(mid >= -0.01, `median wait minus announced: ${early}`);
  assert.ok(gaps.some((g) => g.announced === 30), JSON.stringify(gaps));
});

test('scenario time: a Python client sleeping 60 scenario seconds takes about 60/360 wall seconds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brownout-py-'));
  const script = join(dir, 'sleepy.py');
  writeFileSync(script, `
import json, os, sys, threading, time, urllib.request
url = os.environ["BROWNOUT_DEEPSEEK_URL"] + "/v1/chat/completions"
lock = threading.Lock()
pause = float(sys.argv[1])
def serve(job):
    time.sleep(pause)  # scenario seconds, the clock being warped
    body = dict(job["request"], model="deepseek-chat")
    req = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    answer = json.load(urllib.request.urlopen(req))
    with lock:
        print(json.dumps({"id": job["id"], "text": answer["choices"][0]["message"]["content"]}), flush=True)
print(json.dumps({"ready": True}), flush=True)  # ready_line: start-up is not scenario time
for line in sys.stdin:
    threading.Thread(target=serve, args=(json.loads(line),), daemon=True).start()
`);
  // Thirty scenario minutes: Python's own start-up (about 0.4 s of wall time here, over two
  // scenario minutes at ×360) delays the first few requests, not the median. Beside it the same
  // program without the sleep, whose lag is the machine's delay alone in this run (lag.mjs).
  const { report, stdout, wallSeconds } = run(`${squeeze('fault = "latency"\n  ttft_factor = 1').replace(
    'duration = "20m"', 'duration = "30m"').replace('deadline = "5m"', 'deadline = "30m"').replace(
    'command = "node clients/openai-node/client.mjs"', `command = "python3 ${script} 60"`).replace(
    'name = "openai-node"', 'name = "sleepy"')}
[[clients]]
name = "prompt"
kind = "stdio"
command = "python3 ${script} 0"
ready_line = true
providers = ["deepseek"]
`);
  const s = stack('sleepy')(report);
  const delay = lagOf(stack('prompt')(report));
  assert.equal(s.metrics.all.wrong_answers, 0, stdout);
  // One request is a minute of sleep then a one-second answer, in scenario time; a wall-clock
  // sleep would be 60 s of wall time per request, and none would be answered in this 5-second
  // run. Late by no more than the machine's delay (the prompt twin's lag at the 99th percentile)
  // and a tenth of a wall second: a clock warped ten times too slowly would sleep 600.
  assert.ok(s.metrics.all.availability > 0.5, `answered ${s.metrics.all.availability}\n${stdout}`);
  assert.ok(s.metrics.all.latency_p50 >= 60 && s.metrics.all.latency_p50 < 61 + delay.p99_s + 36,
    `p50 ${s.metrics.all.latency_p50} (the prompt twin's lag ${JSON.stringify(delay)})`);
  assert.ok(wallSeconds < 30, `the run took ${wallSeconds} s of wall time`);
});

test('a stdio client asks for the Gemini form of each request and sends it as it is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brownout-gem-'));
  const script = join(dir, 'gemini_client.py');
  writeFileSync(script, `
import json, os, sys, threading, urllib.request
base = os.environ["BROWNOUT_GEMINI_URL"]
lock = threading.Lock()
def serve(job):
    form = job["requests"]["gemini"]
    url = base + form["path"].replace("{model}", "gemini-2.5-flash")
    req = urllib.request.Request(url, json.dumps(form["body"]).encode(),
                                 {"content-type": "application/json", "x-goog-api-key": "k"}, method=form["method"])
    try:
        if "alt=sse" in url:
            text = ""
            for line in urllib.request.urlopen(req).read().decode().splitlines():
                if line.startswith("data: "):
                    chunk = json.loads(line[6:])
                    for part in chunk["candidates"][0]["content"].get("parts", []):
                        text += part.get("text", "") or json.dumps(part.get("functionCall", {}).get("args"), separators=(",", ":"))
        else:
            answer = json.load(urllib.request.urlopen(req))
            part = answer["candidates"][0]["content"]["parts"][0]
            text = part["text"] if "text" in part else json.dumps(part["functionCall"]["args"], separators=(",", ":"))
        out = {"id": job["id"], "text": text, "provider": "gemini"}
    except Exception as e:
        out = {"id": job["id"], "error": str(e)}
    with lock:
        print(json.dumps(out), flush=True)
print(json.dumps({"ready": True}), flush=True)  # ready_line: start-up is not scenario time
for line in sys.stdin:
    threading.Thread(target=serve, args=(json.loads(line),), daemon=True).start()
`);
  const { report, stdout } = run(`
[scenario]
name = "stdio-gemini"
duration = "6m"
time_scale = 60
seed = 5
[workload]
rate = "600/h"
deadline = "60s"
mix = [ { weight = 2, kind = "chat" }, { weight = 1, kind = "stream" }, { weight = 1, kind = "tools" }, { weight = 1, kind = "vision" } ]
[[providers]]
id = "gemini"
dialect = "gemini"
features = ["stream", "vision", "tools"]
latency = { ttft = "1s", tokens_per_second = 100 }
[[clients]]
name = "py-gemini"
kind = "stdio"
command = "python3 ${script}"
ready_line = true
providers = ["gemini"]
dialects = ["gemini"]
`);
  const s = stack('py-gemini')(report);
  assert.ok(s, stdout);
  assert.equal(s.metrics.all.availability, 1, stdout);
  assert.equal(s.metrics.all.wrong_answers, 0);
});
