#!/usr/bin/env node
// A brownout stdio client stack on the Vercel AI SDK (`ai` 7.0.173, `@ai-sdk/openai` 4.0.118,
// `@ai-sdk/anthropic` 4.0.105) and the community package `ai-fallback` 3.0.0, used as their docs
// show. The library code is not changed or patched; see README.md in this folder for what each
// configuration does and what was observed against the mock.
//
//   node clients/vercel-ai/client.mjs --config default    generateText / streamText, one provider,
//                                                         the SDK's defaults (maxRetries 2, no timeout)
//   node clients/vercel-ai/client.mjs --config fallback   the same calls on createFallback({ models })
//                                                         over every provider it speaks, in order
//
// Protocol (one JSON object per line; several requests in flight, matched by id):
//   stdin  {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 166,
//           "request": {<OpenAI chat body, model "">}, "anthropic_request": {…}}
//   stdout {"id": 17, "text": "<answer or tool-call arguments>", "provider": "deepseek"}
//       or {"id": 17, "error": "AI_APICallError: Service Unavailable"}
// Environment: BROWNOUT_PROVIDERS = [{"id","url","dialect","model"}…] (the client's providers, in their order),
// BROWNOUT_<ID>_KEY when the scenario makes a provider require an API key. With --config default,
// BROWNOUT_PROVIDER picks the provider (default: the first one of a dialect it speaks).
import { generateText, streamText, jsonSchema, tool } from 'ai';
import { AsyncLocalStorage } from 'node:async_hooks';
import readline from 'node:readline';

const SPEAKS = ['openai', 'openai-responses', 'anthropic'];

const args = process.argv.slice(2);
const configIndex = args.indexOf('--config');
const config = configIndex >= 0 ? args[configIndex + 1] : 'default';
if (!['default', 'fallback'].includes(config)) {
  console.error(`unknown --config ${config} (default | fallback)`);
  process.exit(2);
}

const all = JSON.parse(process.env.BROWNOUT_PROVIDERS ?? '[]');
const spoken = all.filter((p) => SPEAKS.includes(p.dialect));
const chosen = config === 'default'
  ? [spoken.find((p) => p.id === process.env.BROWNOUT_PROVIDER) ?? spoken[0]].filter(Boolean)
  : spoken;
if (chosen.length === 0) {
  console.error(`no provider of a dialect this stack speaks (${SPEAKS.join(', ')}) in BROWNOUT_PROVIDERS`);
  process.exit(2);
}

// Only the provider packages in use are loaded: start-up time is scenario time lost (a request
// that arrives while Node is still importing waits; at time scale 60 a wall second is a minute).
const dialects = new Set(chosen.map((p) => p.dialect));
const { createOpenAI } = dialects.has('openai') || dialects.has('openai-responses') ? await import('@ai-sdk/openai') : {};
const { createAnthropic } = dialects.has('anthropic') ? await import('@ai-sdk/anthropic') : {};
const { createFallback } = config === 'fallback' ? await import('ai-fallback') : {};

// Which provider answered: every HTTP request a provider's model makes is noted in the request's
// own async context (observation only — the request goes to the global fetch unchanged), so the
// last provider asked is the one whose answer came back, also when ai-fallback switched.
const current = new AsyncLocalStorage();
const observingFetch = (id) => (input, init) => {
  const job = current.getStore();
  if (job) job.provider = id;
  return fetch(input, init);
};

function modelFor(p) {
  const envId = p.id.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const key = process.env[`BROWNOUT_${envId}_KEY`];
  if (p.dialect === 'anthropic') {
    // The provider posts to `${baseURL}/messages`; its default baseURL is https://api.anthropic.com/v1.
    const anthropic = createAnthropic({
      baseURL: `${p.url}/v1`, apiKey: key ?? 'sk-ant-brownout', fetch: observingFetch(p.id),
    });
    return anthropic(p.model);
  }
  // Posts to `${baseURL}/chat/completions` (or /responses); default baseURL https://api.openai.com/v1.
  const openai = createOpenAI({ baseURL: `${p.url}/v1`, apiKey: key ?? 'sk-brownout', fetch: observingFetch(p.id) });
  return p.dialect === 'openai-responses' ? openai.responses(p.model) : openai.chat(p.model);
}

// default: the one provider's model. fallback: ai-fallback as its README shows it,
// createFallback({ models: [...] }) with its defaults (modelResetInterval 3 min,
// retryAfterOutput true, its own shouldRetryThisError).
const model = config === 'default'
  ? modelFor(chosen[0])
  : createFallback({ models: chosen.map(modelFor) });

// The OpenAI chat body → the AI SDK's call options.
function callOptions(body) {
  const instructions = [];
  const messages = [];
  for (const m of body.messages ?? []) {
    if (m.role === 'system' || m.role === 'developer') {
      instructions.push(typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join(''));
      continue;
    }
    if (typeof m.content === 'string' || m.content == null) {
      messages.push({ role: m.role, content: m.content ?? '' });
      continue;
    }
    messages.push({
      role: m.role,
      content: m.content.map((part) => {
        if (part.type === 'image_url') {
          // A URL the model fetches itself (both providers list http(s) image URLs as supported,
          // so the SDK passes it through rather than downloading it).
          return { type: 'file', mediaType: 'image', data: new URL(part.image_url.url) };
        }
        return { type: 'text', text: part.text ?? '' };
      }),
    });
  }
  const options = { model, messages };
  if (instructions.length) options.instructions = instructions.join('\n');
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) options.maxOutputTokens = maxTokens;
  if (body.temperature != null) options.temperature = body.temperature;
  if (body.tools?.length) {
    // The OpenAI tool definitions as AI SDK tools: the schema as given, no execute (the caller
    // wants the call, as an application that runs the tool itself).
    options.tools = Object.fromEntries(body.tools.map((t) => [
      t.function.name,
      tool({ description: t.function.description, inputSchema: jsonSchema(t.function.parameters ?? { type: 'object' }) }),
    ]));
    const choice = body.tool_choice;
    if (choice === 'required' || choice === 'auto' || choice === 'none') options.toolChoice = choice;
    else if (choice?.type === 'function') options.toolChoice = { type: 'tool', toolName: choice.function.name };
  }
  return options;
}

async function answer(job) {
  const options = callOptions(job.request);
  if (job.request.stream || job.kind === 'stream') {
    // streamText reports errors as `error` parts of its stream (and to onError, which by default
    // only logs them): a consumer that reads textStream alone sees a short answer and no error.
    // Reading the full stream and throwing on an `error` part makes a broken stream an error.
    const result = streamText(options);
    let text = '';
    let args = '';
    let finished = false;
    for await (const part of result.stream) {
      if (part.type === 'text-delta') text += part.text;
      else if (part.type === 'tool-input-delta') args += part.delta;
      else if (part.type === 'tool-call' && !args) args = JSON.stringify(part.input);
      else if (part.type === 'error') throw part.error;
      else if (part.type === 'abort') throw new Error(`stream aborted${part.reason ? `: ${part.reason}` : ''}`);
      else if (part.type === 'finish') finished = true;
    }
    if (!finished) throw new Error('stream ended without a finish part');
    return args || text;
  }
  const result = await generateText(options);
  const call = result.toolCalls?.[0];
  if (call) return JSON.stringify(call.input);
  return result.text;
}

const write = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function describe(err) {
  const name = err?.name ?? err?.constructor?.name ?? 'Error';
  const status = err?.statusCode ?? err?.lastError?.statusCode;
  const message = String(err?.message ?? err).split('\n')[0].slice(0, 300);
  return `${name}${status ? ` ${status}` : ''}: ${message}`;
}

// Started (modules loaded, clients built): the harness starts the scenario clock on this line
// (`ready_line = true` in stack.toml), so a slow start is not scored as the incident's.
process.stdout.write('{"ready":true}\n');
const lines = readline.createInterface({ input: process.stdin });
let inFlight = 0;
let closing = false;
lines.on('line', (line) => {
  let job;
  try {
    job = JSON.parse(line);
  } catch {
    console.error(`not JSON: ${line.slice(0, 200)}`);
    return;
  }
  if (job?.id == null) return;
  inFlight += 1;
  const record = { provider: undefined };
  current.run(record, async () => {
    try {
      const text = await answer(job);
      write({ id: job.id, text, provider: record.provider ?? chosen[0].id });
    } catch (err) {
      write({ id: job.id, error: describe(err) });
    } finally {
      inFlight -= 1;
      if (closing && inFlight === 0) process.exit(0);
    }
  });
});
lines.on('close', () => {
  closing = true;
  if (inFlight === 0) process.exit(0);
});
