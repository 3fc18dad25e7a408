// The machine's delay, as a run measured it, for the timing assertions of the real-stack tests.
//
// On the wire every delay of the machine (a process the kernel did not run, a program starting,
// the harness itself) is multiplied by the time scale: a tenth of a wall second is 36 scenario
// seconds at ×360. A clean clone's suite runs four tests at a time beside a build, and there a
// Node client stalled for 0.3-1 wall s at a time (2026-12-02). So a timing assertion does not
// guess an allowance of its own: the report measures each external stack's lag (how long after
// its arrival each request first reached a provider), and the assertion takes it from there, or
// compares quantities that differ by far more than such a stall.
import assert from 'node:assert/strict';

// { requests, p50_s, p99_s, max_s } of a stack in report.json (scenario seconds).
export function lagOf(stack) {
  assert.ok(stack.lag && stack.lag.requests > 0, `${stack.client}: no lag in the report: ${JSON.stringify(stack)}`);
  return stack.lag;
}

// The users (users.jsonl records) of `client` that arrived more than the stack's largest lag
// before scenario second `t`: the machine's delay cannot have carried their first attempt past it.
export function clearBefore(users, client, t, lag) {
  return users.filter((u) => u.client === client && u.arrival_ns / 1e9 + lag.max_s < t);
}
