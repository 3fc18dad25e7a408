// The Vercel AI SDK and LangChain.js client stacks (clients/vercel-ai, clients/langchain) end to
// end: one `brownout run` with all four configurations side by side, each against its own copy
// of a two-provider fleet — an OpenAI-dialect primary that is down (503) from 3m to 7m, and an
// Anthropic-dialect backup that requires an API key. Every request kind must be answered and
// verified while the primary is healthy; the fallback configurations must carry the outage on
// the backup; the default configurations stay on the primary and retry there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lagOf, clearBefore } from './lag.mjs';

const bin = process.env.BROWNOUT_BIN;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const stacks = {
  'vercel-ai-default': 'clients/vercel-ai/client.mjs --config default',
  'vercel-ai-fallback': 'clients/vercel-ai/client.mjs --config fallback',
  'langchain-default': 'clients/langchain/client.mjs --config default',
  'langchain-fallback': 'clients/langchain/client.mjs --config fallback',
};
const fallbacks = ['vercel-ai-fallback', 'langchain-fallback'];
const KINDS = ['chat', 'stream', 'vision', 'tools'];
const OUTAGE = [180, 420];  // scenario seconds

// Time scale 20 (the run takes ~24 s of wall time). Each stack writes {"ready":true} once it has
// imported its libraries (`ready_line = true`), and the scenario clock starts after that; the
// deadline of 180 s leaves room for a loaded machine, where four Node processes on two cores
// answer their first requests slowly.
function scenario(dir) {
  let toml = `
[scenario]
name = "stacks-vercel-langchain"
duration = "8m"
time_scale = 20
seed = 17
[workload]
rate = "720/h"
deadline = "180s"
repeat = 0
mix = [ { weight = 1, kind = "chat" }, { weight = 1, kind = "stream" }, { weight = 1, kind = "vision" }, { weight = 1, kind = "tools" } ]
[[providers]]
id = "primary"
dialect = "openai"
models = ["gpt-4o-mini"]
latency = { ttft = "1s", tokens_per_second = 50, jitter = 0 }
  [[providers.phases]]
  start = "3m"
  end = "7m"
  fault = "outage"
  mode = "http"
  status = 503
  message = "Server busy, please try again later."
[[providers]]
id = "backup"
dialect = "anthropic"
models = ["claude-sonnet-4-5"]
api_key = "sk-ant-secret-7f3e21"
latency = { ttft = "1s", tokens_per_second = 50, jitter = 0 }
`;
  for (const [name, args] of Object.entries(stacks)) {
    // The stack's own stdin and stdout copied aside, to see which kinds it answered and how.
    const command = `tee ${join(dir, `${name}.in`)} | node ${join(root, args)} | tee ${join(dir, `${name}.out`)}`;
    toml += `
[[clients]]
name = "${name}"
kind = "stdio"
ready_line = true
command = "${command}"
providers = [${fallbacks.includes(name) ? '"primary", "backup"' : '"primary"'}]
`;
  }
  return toml;
}

const readLines = (file) => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n')
  .filter((l) => l.trim()).map((l) => JSON.parse(l));

let result;
function run() {
  if (result) return result;
  const dir = mkdtempSync(join(tmpdir(), 'brownout-stacks-'));
  const file = join(dir, 'scenario.toml');
  writeFileSync(file, scenario(dir));
  const res = spawnSync(bin, ['run', file, '--report-dir', join(dir, 'report')], {
    encoding: 'utf8', timeout: 100_000, cwd: root,
  });
  const stdout = `${res.stdout}${res.stderr}`;
  assert.ok(existsSync(join(dir, 'report', 'report.json')), stdout);
  const report = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8'));
  const attempts = readLines(join(dir, 'report', 'attempts.jsonl'));
  const io = Object.fromEntries(Object.keys(stacks).map((name) => {
    const kinds = new Map(readLines(join(dir, `${name}.in`)).map((r) => [r.id, r.kind]));
    return [name, readLines(join(dir, `${name}.out`)).map((o) => ({ ...o, kind: kinds.get(o.id) }))];
  }));
  const users = readLines(join(dir, 'report', 'users.jsonl'));
  result = { report, attempts, users, io, stdout };
  return result;
}

const stackOf = (report, name) => report.stacks.find((s) => s.client === name);

// When a stack first reached a provider, in scenario seconds: a start-up of more than a few wall
// seconds (a loaded machine) eats into the steady phase, and the failure message says so.
function startedAt(attempts, name) {
  const first = Math.min(...attempts.filter((a) => a.client === name).map((a) => a.at_ms));
  return `${name}'s first request reached a provider at ${(first / 1000).toFixed(1)} scenario s`;
}

for (const name of Object.keys(stacks)) {
  test(`${name}: every kind answered and verified while the primary is healthy`, () => {
    const { report, attempts, users, io, stdout } = run();
    const s = stackOf(report, name);
    assert.ok(s, stdout);
    // Every request answered while all is well, but for those the machine's delay may have
    // carried into the outage (lag.mjs): what arrived less than the stack's largest lag before it.
    const lag = lagOf(s);
    const clear = clearBefore(users, name, OUTAGE[0], lag);
    assert.ok(clear.length >= 10, `${name}: ${clear.length} steady requests clear of a lag of ${JSON.stringify(lag)}; ${startedAt(attempts, name)}; ${stdout}`);
    assert.deepEqual(clear.filter((u) => u.outcome !== 'answered'), [], `${name} (lag ${JSON.stringify(lag)}); ${startedAt(attempts, name)}; ${stdout}`);
    assert.equal(s.metrics.all.wrong_answers, 0, `${name}: ${stdout}`);
    assert.equal(s.metrics.all.hung, 0, `${name}: ${stdout}`);
    for (const kind of KINDS) {
      const answered = io[name].filter((o) => o.kind === kind && typeof o.text === 'string');
      assert.ok(answered.length > 0, `${name} answered no ${kind} request`);
      for (const o of answered) {
        if (kind === 'tools') assert.match(o.text, /^\{.*"bo-[0-9a-f]{8}".*\}$/, `${name} tools: ${o.text}`);
        else assert.match(o.text, /\[bo:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}\]$/, `${name} ${kind}: ${o.text}`);
      }
    }
    assert.ok(!stdout.includes('secret-7f3e') && !JSON.stringify(report).includes('secret-7f3e'), 'the key leaked');
  });
}

for (const name of fallbacks) {
  test(`${name}: fails over to the backup while the primary is down`, () => {
    const { report, attempts, io, stdout } = run();
    const s = stackOf(report, name);
    const during = attempts.filter((a) => a.client === name && a.at_ms >= OUTAGE[0] * 1000 && a.at_ms < OUTAGE[1] * 1000);
    const backupAnswers = during.filter((a) => a.provider === 'backup' && a.status === 200).length;
    assert.ok(backupAnswers >= 10, `${name}: ${backupAnswers} answers from the backup during the outage`);
    assert.ok(s.metrics.incident.availability >= 0.9, `${name}: ${stdout}`);
    assert.ok(io[name].some((o) => o.provider === 'backup' && o.text), `${name} never said the backup answered`);
    // The harness's stdio answers name their provider: answers from before the outage came from
    // the primary.
    assert.ok(io[name].some((o) => o.provider === 'primary' && o.text), `${name} never used the primary`);
  });
}

for (const name of ['vercel-ai-default', 'langchain-default']) {
  test(`${name}: stays on the primary and retries there`, () => {
    const { report, attempts, stdout } = run();
    const s = stackOf(report, name);
    const mine = attempts.filter((a) => a.client === name);
    assert.equal(mine.filter((a) => a.provider === 'backup').length, 0, 'a default stack has one provider');
    // LangChain's retries span up to ~2 minutes, so requests from the end of the outage get
    // through after it; those from its start cannot.
    assert.ok(s.metrics.incident.availability < 0.9, `${name}: ${stdout}`);
    // The AI SDK: maxRetries 2 (3 attempts); LangChain's AsyncCaller: 6 retries with 1 s × 2ⁿ backoff.
    const floor = name === 'vercel-ai-default' ? 2.5 : 3.5;
    assert.ok(s.metrics.incident.retry_amplification > floor,
      `${name}: retry amplification ${s.metrics.incident.retry_amplification}`);
  });
}
