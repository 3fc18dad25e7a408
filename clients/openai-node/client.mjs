#!/usr/bin/env node
// A brownout stdio client stack built on the official `openai` npm package, as an application
// would use it: default retries (2), default timeout, one provider.
//
// Protocol (one JSON object per line; several requests in flight, matched by id):
//   stdin  {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 166, "request": {<OpenAI chat body, model "">}}
//   stdout {"id": 17, "text": "<answer or tool-call arguments>", "provider": "deepseek"}
//       or {"id": 17, "error": "RateLimitError: 429 ..."}
// Environment: BROWNOUT_PROVIDERS = [{"id","url","dialect","model"}…], BROWNOUT_<ID>_URL for each,
// BROWNOUT_<ID>_KEY when the scenario makes the provider require an API key.
// BROWNOUT_PROVIDER picks the provider (default: the first OpenAI-dialect one).
// BROWNOUT_MAX_RETRIES sets the SDK's maxRetries (default: the SDK's own, 2), for a run that
// wants its longer backoffs.
import OpenAI from 'openai';
import readline from 'node:readline';

const providers = JSON.parse(process.env.BROWNOUT_PROVIDERS ?? '[]');
const chosen = providers.find((p) => p.id === process.env.BROWNOUT_PROVIDER)
  ?? providers.find((p) => p.dialect === 'openai');
if (!chosen) {
  console.error('no OpenAI-compatible provider in BROWNOUT_PROVIDERS');
  process.exit(2);
}
const keyVariable = `BROWNOUT_${chosen.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_KEY`;
const apiKey = process.env[keyVariable] ?? process.env.OPENAI_API_KEY ?? 'sk-brownout';
const maxRetries = process.env.BROWNOUT_MAX_RETRIES;
const client = new OpenAI({
  apiKey,
  baseURL: `${chosen.url}/v1`,
  ...(maxRetries ? { maxRetries: Number(maxRetries) } : {}),
});

const write = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

async function answer(job) {
  const body = { ...job.request, model: chosen.model };
  if (body.stream) {
    const stream = await client.chat.completions.create(body);
    let text = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      text += delta?.content ?? '';
      text += delta?.tool_calls?.[0]?.function?.arguments ?? '';
    }
    return text;
  }
  const res = await client.chat.completions.create(body);
  const message = res.choices[0].message;
  return message.tool_calls?.[0]?.function?.arguments ?? message.content ?? '';
}

// Started (modules loaded, clients built): the harness starts the scenario clock on this line
// (`ready_line = true` in stack.toml), so a slow start is not scored as the incident's.
process.stdout.write('{"ready":true}\n');
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  let job;
  try {
    job = JSON.parse(line);
  } catch {
    return;
  }
  try {
    write({ id: job.id, text: await answer(job), provider: chosen.id });
  } catch (err) {
    write({ id: job.id, error: `${err.constructor.name}: ${err.message}` });
  }
});
lines.on('close', () => process.exit(0));
