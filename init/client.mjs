#!/usr/bin/env node
// A brownout stdio client, written by `brownout init --stack node`: the place where your own
// code meets the mock providers. brownout starts it once and writes one JSON request a line on
// stdin; it answers each on stdout, one JSON line, in any order (README "Client stacks"):
//
//   ← {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 500, "request": {…}}
//   → {"id": 17, "text": "<the answer, or the tool call's arguments>", "provider": "primary"}
//   → {"id": 17, "error": "what went wrong"}
//
// "request" is an OpenAI chat completions body with "model" left empty; "anthropic_request"
// holds the same as an Anthropic Messages body. Replace answer() with a call into your stack
// (your SDK client, your retry and fallback code, your cache) and keep the rest.
//
// Environment: BROWNOUT_PROVIDERS = [{"id", "url", "dialect", "model"}, …] (this client's
// providers, in the order of its `providers`), BROWNOUT_<ID>_KEY when a provider needs a key.
// Needs Node 18 or later (fetch); no packages.
import readline from 'node:readline';

const providers = JSON.parse(process.env.BROWNOUT_PROVIDERS ?? '[]');
const keyOf = (p) => process.env[`BROWNOUT_${p.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_KEY`];

// One attempt at one OpenAI-compatible provider; streamed answers are read to their end.
async function complete(provider, request) {
  const body = { ...request, model: provider.model };
  const res = await fetch(`${provider.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf(provider) ?? 'sk-starter'}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`${provider.id}: HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  if (!body.stream) {
    const message = (await res.json()).choices[0].message;
    return message.tool_calls?.[0]?.function?.arguments ?? message.content ?? '';
  }
  let text = '';
  let done = false;
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += Buffer.from(chunk).toString('utf8');
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (!line.startsWith('data:')) continue;  // ": keep-alive" comments, blank lines
      const data = line.slice(5).trim();
      if (data === '[DONE]') { done = true; continue; }
      const event = JSON.parse(data);
      if (event.error) throw new Error(`${provider.id}: error in the stream: ${event.error.message}`);
      const delta = event.choices?.[0]?.delta;
      text += delta?.content ?? '';
      text += delta?.tool_calls?.[0]?.function?.arguments ?? '';
    }
  }
  if (!done) throw new Error(`${provider.id}: the stream ended without [DONE]`);
  return text;
}

// Your stack goes here. This starter tries each provider once, in order: the simplest fallback.
async function answer(job) {
  let last;
  for (const provider of providers) {
    try {
      return { text: await complete(provider, job.request), provider: provider.id };
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error('no providers');
}

// Started: the scenario clock starts now (`ready_line = true` in the scenario).
process.stdout.write('{"ready":true}\n');
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const job = JSON.parse(line);
  try {
    process.stdout.write(`${JSON.stringify({ id: job.id, ...(await answer(job)) })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ id: job.id, error: String(err.message ?? err) })}\n`);
  }
});
