// Every fault kind through every dialect's official SDK, one table: each cell is what that SDK
// surfaces when the mock applies that fault in that API's own form. Faults are forced per request
// (x-brownout-fault); each SDK's own retries are off here (the retry behaviour has its own tests:
// faults, responses, gemini), so a cell is one attempt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import { startFleet, TAG } from './fleet.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => assert.equal(await fleet.stop(), 0));

const question = 'Is the API up?';
const png = 'aGVsbG8=';  // the bytes are never looked at

// One adapter per dialect: ask(fault, {stream, image, signal}) resolves to the answer's text or
// rejects with the SDK's error; status(err) is the HTTP status the SDK reports; hint(err) the
// wait the error carries in that API's form (or undefined where the API has none).
const dialects = {
  'openai chat': {
    ask: async (fault, o) => {
      const c = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1`, maxRetries: 0 });
      const content = o.image ? [{ type: 'text', text: question }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] : question;
      const req = { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: o.stream };
      const opts = { headers: { 'x-brownout-fault': fault }, signal: o.signal };
      if (!o.stream) return (await c.chat.completions.create(req, opts)).choices[0].message.content;
      let text = '';
      for await (const ch of await c.chat.completions.create(req, opts)) text += ch.choices[0]?.delta?.content ?? '';
      return text;
    },
    status: (e) => e.status,
    hint: (e) => e.headers?.get?.('retry-after') ?? undefined,
  },
  'openai responses': {
    ask: async (fault, o) => {
      const c = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1`, maxRetries: 0 });
      const input = o.image ? [{ role: 'user', content: [{ type: 'input_text', text: question }, { type: 'input_image', image_url: `data:image/png;base64,${png}`, detail: 'auto' }] }] : question;
      const opts = { headers: { 'x-brownout-fault': fault }, signal: o.signal };
      if (!o.stream) return (await c.responses.create({ model: 'gpt-4o-mini', input }, opts)).output_text;
      let text = '';
      for await (const ev of await c.responses.create({ model: 'gpt-4o-mini', input, stream: true }, opts))
        if (ev.type === 'response.output_text.delta') text += ev.delta;
      return text;
    },
    status: (e) => e.status,
    hint: (e) => e.headers?.get?.('retry-after') ?? undefined,
  },
  anthropic: {
    ask: async (fault, o) => {
      const c = new Anthropic({ apiKey: 'k', baseURL: fleet.urls.anthropic, maxRetries: 0 });
      const content = o.image ? [{ type: 'text', text: question }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }] : question;
      const req = { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content }], stream: o.stream };
      const opts = { headers: { 'x-brownout-fault': fault }, signal: o.signal };
      if (!o.stream) return (await c.messages.create(req, opts)).content[0].text;
      let text = '';
      for await (const ev of await c.messages.create(req, opts)) if (ev.type === 'content_block_delta') text += ev.delta.text ?? '';
      return text;
    },
    status: (e) => e.status,
    hint: (e) => e.headers?.get?.('retry-after') ?? undefined,
  },
  gemini: {
    ask: async (fault, o) => {
      const c = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: fleet.urls.gemini, headers: { 'x-brownout-fault': fault } } });
      const contents = o.image ? [{ role: 'user', parts: [{ text: question }, { inlineData: { mimeType: 'image/png', data: png } }] }] : question;
      const config = o.signal ? { abortSignal: o.signal } : {};
      if (!o.stream) return (await c.models.generateContent({ model: 'gemini-2.5-flash', contents, config })).text;
      let text = '';
      for await (const ch of await c.models.generateContentStream({ model: 'gemini-2.5-flash', contents, config })) text += ch.text ?? '';
      return text;
    },
    status: (e) => e.status,
    hint: (e) => JSON.parse(e.message).error.details?.find((d) => d['@type'].endsWith('RetryInfo'))?.retryDelay,
  },
  ollama: {
    ask: async (fault, o) => {
      const c = new Ollama({ host: fleet.urls.ollama, headers: { 'x-brownout-fault': fault } });
      const messages = [{ role: 'user', content: question, ...(o.image ? { images: [png] } : {}) }];
      if (!o.stream) return (await c.chat({ model: 'llama3.2', messages })).message.content;
      const stream = await c.chat({ model: 'llama3.2', messages, stream: true });
      o.signal?.addEventListener('abort', () => stream.abort());
      let text = '';
      for await (const part of stream) text += part.message.content;
      return text;
    },
    status: (e) => e.status_code,
    hint: () => undefined,  // Ollama names no wait
  },
};

const rows = [
  // `busy` answers 503 in every dialect unless it names another status (Anthropic's 529 is the
  // capacity model's overload, and `busy;status=529`).
  { fault: 'busy', what: 'an overload', expect: (d, r) => {
    assert.equal(r.status, 503);
  } },
  { fault: 'busy;status=429;retry_after=30s', what: 'a rate limit with its retry hint', expect: (d, r) => {
    assert.equal(r.status, 429);
    if (d === 'ollama') assert.equal(r.hint, undefined);
    else assert.ok(r.hint, `${d}: the wait is in this API's form`);  // header, or Gemini's RetryInfo
  } },
  { fault: 'feature_loss;features=["vision"]', what: 'a lost feature', image: true, expect: (d, r) => {
    if (d === 'ollama') assert.match(r.text, TAG, 'Ollama passes over the image and answers');
    else assert.equal(r.status, 400);
  } },
  { fault: 'stream_error;after_tokens=3;status=500', what: 'an in-stream error', stream: true, expect: (d, r) => {
    assert.ok(r.error, `${d}: the stream ended in an error`);
  } },
  { fault: 'disconnect;after_tokens=3', what: 'a cut stream', stream: true, expect: (d, r) => {
    assert.ok(r.error, `${d}: the cut surfaced`);
  } },
  { fault: 'malformed;variant=truncated_sse', what: 'a malformed (truncated) frame', stream: true, expect: (d, r) => {
    assert.ok(r.error || !TAG.test(r.text ?? ''), `${d}: the answer is not whole`);
  } },
  // The caller gives up after 0.4 s: an abort error — or, in the Stainless-built SDKs (openai,
  // Anthropic), a stream that ends quietly on abort with the partial text.
  { fault: 'stall;after_tokens=2', what: 'a stalled stream', stream: true, abortAfter: 400, expect: (d, r) => {
    assert.ok(r.error || (r.text.length > 0 && !TAG.test(r.text)), `${d}: the caller gave up on it`);
  } },
];

for (const row of rows) {
  test(`${row.what} (${row.fault}) in every dialect's own form`, async () => {
    for (const [name, d] of Object.entries(dialects)) {
      const controller = row.abortAfter ? new AbortController() : undefined;
      const timer = controller && setTimeout(() => controller.abort(), row.abortAfter);
      const r = {};
      try {
        r.text = await d.ask(row.fault, { stream: row.stream, image: row.image, signal: controller?.signal });
      } catch (err) {
        r.error = err;
        r.status = d.status(err);
        try { r.hint = d.hint(err); } catch { r.hint = undefined; }
      } finally {
        if (timer) clearTimeout(timer);
      }
      row.expect(name, r);
    }
  });
}
