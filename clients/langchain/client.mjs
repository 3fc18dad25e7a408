#!/usr/bin/env node
// A brownout stdio client stack on LangChain.js (`@langchain/core` 1.4.0, `@langchain/openai`
// 1.6.0 `ChatOpenAI`, `@langchain/anthropic` 1.5.11 `ChatAnthropic`), used as its docs show. The
// library code is not changed or patched; see README.md in this folder for what each
// configuration does and what was observed against the mock.
//
//   node clients/langchain/client.mjs --config default    one chat model, LangChain's defaults
//                                                         (AsyncCaller: maxRetries 6, no timeout of its own)
//   node clients/langchain/client.mjs --config fallback   primary.withFallbacks([...others]) over every
//                                                         provider it speaks, in order; maxRetries: 0 on
//                                                         every model but the last, as the fallbacks guide says
//
// Protocol (one JSON object per line; several requests in flight, matched by id):
//   stdin  {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 166,
//           "request": {<OpenAI chat body, model "">}, "anthropic_request": {…}}
//   stdout {"id": 17, "text": "<answer or tool-call arguments>", "provider": "deepseek"}
//       or {"id": 17, "error": "InternalServerError 503: Server busy, please try again later."}
// Environment: BROWNOUT_PROVIDERS = [{"id","url","dialect","model"}…] (the client's providers, in their order),
// BROWNOUT_<ID>_KEY when the scenario makes a provider require an API key. With --config default,
// BROWNOUT_PROVIDER picks the provider (default: the first one of a dialect it speaks).
import { AIMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
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
const { ChatOpenAI } = dialects.has('openai') || dialects.has('openai-responses') ? await import('@langchain/openai') : {};
const { ChatAnthropic } = dialects.has('anthropic') ? await import('@langchain/anthropic') : {};

// Which provider answered: every HTTP request a provider's client makes is noted in the request's
// own async context (observation only — the request goes to the global fetch unchanged), so the
// last provider asked is the one whose answer came back, also after a fallback.
const current = new AsyncLocalStorage();
const observingFetch = (id) => (input, init) => {
  const job = current.getStore();
  if (job) job.provider = id;
  return fetch(input, init);
};

// One chat model per (provider, max_tokens), made once: ChatOpenAI / ChatAnthropic with the
// library's defaults except where the configuration says otherwise.
const models = new Map();
function modelFor(p, maxTokens, maxRetries) {
  const cacheKey = `${p.id}\n${maxTokens}\n${maxRetries}`;
  if (models.has(cacheKey)) return models.get(cacheKey);
  const envId = p.id.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const key = process.env[`BROWNOUT_${envId}_KEY`];
  const retries = maxRetries == null ? {} : { maxRetries };
  let model;
  if (p.dialect === 'anthropic') {
    // anthropicApiUrl is the SDK's baseURL: the host, without /v1 (@anthropic-ai/sdk appends /v1/messages).
    model = new ChatAnthropic({
      model: p.model, apiKey: key ?? 'sk-ant-brownout', anthropicApiUrl: p.url,
      clientOptions: { fetch: observingFetch(p.id) },
      ...(maxTokens != null ? { maxTokens } : {}), ...retries,
    });
  } else {
    // configuration is the openai client's options: its baseURL includes /v1.
    model = new ChatOpenAI({
      model: p.model, apiKey: key ?? 'sk-brownout',
      configuration: { baseURL: `${p.url}/v1`, fetch: observingFetch(p.id) },
      useResponsesApi: p.dialect === 'openai-responses',
      ...(maxTokens != null ? { maxTokens } : {}), ...retries,
    });
  }
  models.set(cacheKey, model);
  return model;
}

// The OpenAI chat body → LangChain messages (image_url parts pass through as they are: both
// ChatOpenAI and ChatAnthropic take OpenAI-style image_url content blocks with an http(s) URL).
function toMessages(body) {
  return (body.messages ?? []).map((m) => {
    const content = typeof m.content === 'string' || m.content == null
      ? (m.content ?? '')
      : m.content.map((part) => (part.type === 'image_url'
        ? { type: 'image_url', image_url: { url: part.image_url.url } }
        : { type: 'text', text: part.text ?? '' }));
    if (m.role === 'system' || m.role === 'developer') return new SystemMessage({ content });
    if (m.role === 'assistant') return new AIMessage({ content });
    return new HumanMessage({ content });
  });
}

// The runnable for one request: the model (tools bound when the request has tools), and in the
// fallback configuration the same for each further provider, chained with withFallbacks.
function runnableFor(body) {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const bind = (model) => {
    if (!body.tools?.length) return model;
    // OpenAI-format tool definitions are accepted by both bindTools implementations.
    const choice = body.tool_choice;
    const toolChoice = choice?.type === 'function' ? choice.function.name : choice;
    return model.bindTools(body.tools, toolChoice ? { tool_choice: toolChoice } : {});
  };
  if (config === 'default') return bind(modelFor(chosen[0], maxTokens));
  // "By default, many of LangChain's LLM wrappers catch errors and retry. You will most likely
  // want to turn those off when working with fallbacks. Otherwise the first wrapper will keep on
  // retrying rather than failing." (LangChain.js fallbacks guide, whose example sets maxRetries: 0
  // on the primary and leaves the fallback at its defaults.) Every model that has a successor
  // gets maxRetries: 0; the last keeps LangChain's default.
  const chain = chosen.map((p, i) => bind(modelFor(p, maxTokens, i < chosen.length - 1 ? 0 : undefined)));
  return chain.length === 1 ? chain[0] : chain[0].withFallbacks(chain.slice(1));
}

function answerOf(message) {
  const call = message.tool_calls?.[0];
  if (call) return JSON.stringify(call.args);
  if (typeof message.content === 'string') return message.content;
  return message.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
}

async function answer(job) {
  const runnable = runnableFor(job.request);
  const messages = toMessages(job.request);
  if (job.request.stream || job.kind === 'stream') {
    // An error after the first chunk is thrown by the iterator (and is never sent to a fallback).
    let full;
    for await (const chunk of await runnable.stream(messages)) full = full ? full.concat(chunk) : chunk;
    if (!full) throw new Error('stream ended without a chunk');
    return answerOf(full);
  }
  return answerOf(await runnable.invoke(messages));
}

const write = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function describe(err) {
  const name = err?.constructor?.name && err.constructor.name !== 'Error' ? err.constructor.name : (err?.name ?? 'Error');
  const status = err?.status ?? err?.statusCode;
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
