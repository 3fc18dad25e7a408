#!/usr/bin/env node
// A brownout stdio client stack built on the official `@anthropic-ai/sdk` npm package, as an
// application would use it: default retries (2), default timeout, one Anthropic provider.
//
// Protocol (one JSON object per line; several requests in flight, matched by id):
//   stdin  {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 166,
//           "request": {<OpenAI chat body>}, "anthropic_request": {<Messages API body, model "">}}
//   stdout {"id": 17, "text": "<answer or tool input JSON>", "provider": "anthropic"}
//       or {"id": 17, "error": "OverloadedError: 529 ..."}
// Environment: BROWNOUT_PROVIDERS = [{"id","url","dialect","model"}…], BROWNOUT_<ID>_URL and,
// when the scenario requires one, BROWNOUT_<ID>_KEY for each. BROWNOUT_PROVIDER picks the
// provider (default: the first Anthropic-dialect one).
import Anthropic from '@anthropic-ai/sdk';
import readline from 'node:readline';

const providers = JSON.parse(process.env.BROWNOUT_PROVIDERS ?? '[]');
const chosen = providers.find((p) => p.id === process.env.BROWNOUT_PROVIDER)
  ?? providers.find((p) => p.dialect === 'anthropic');
if (!chosen) {
  console.error('no Anthropic provider in BROWNOUT_PROVIDERS');
  process.exit(2);
}
const keyVariable = `BROWNOUT_${chosen.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_KEY`;
const apiKey = process.env[keyVariable] ?? process.env.ANTHROPIC_API_KEY ?? 'sk-ant-brownout';
const client = new Anthropic({ apiKey, baseURL: chosen.url });

const write = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

async function answer(job) {
  const body = { ...job.anthropic_request, model: chosen.model };
  if (body.stream) {
    const stream = await client.messages.create(body);
    let text = '';
    for await (const event of stream) {
      if (event.type !== 'content_block_delta') continue;
      text += event.delta.type === 'text_delta' ? event.delta.text : '';
      text += event.delta.type === 'input_json_delta' ? event.delta.partial_json : '';
    }
    return text;
  }
  const res = await client.messages.create(body);
  const tool = res.content.find((block) => block.type === 'tool_use');
  if (tool) return JSON.stringify(tool.input);
  return res.content.filter((block) => block.type === 'text').map((block) => block.text).join('');
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
