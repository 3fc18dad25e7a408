// What the official SDKs do under brownout's faults, counted from the provider's own journal.
// Faults are forced per request with the x-brownout-fault header, so each test is independent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFleet, TAG } from './fleet.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => assert.equal(await fleet.stop(), 0));

const messages = [{ role: 'user', content: 'Is the API up?' }];
const fault = (value) => ({ headers: { 'x-brownout-fault': value } });

// Attempts recorded since `before`, as [status, retry_count].
async function attemptsSince(provider, before) {
  return (await fleet.journal(provider)).slice(before).map((a) => [a.status, a.retry_count]);
}

test('openai: a busy 503 is retried twice with backoff, then InternalServerError', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1` });
  const before = (await fleet.journal('openai')).length;
  const started = Date.now();
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fault('busy;message=Server busy, please try again later.')),
    (err) => {
      assert.ok(err instanceof OpenAI.InternalServerError, `got ${err.constructor.name}`);
      assert.equal(err.status, 503);
      assert.match(err.message, /Server busy, please try again later\./);
      return true;
    });
  assert.deepEqual(await attemptsSince('openai', before), [[503, 0], [503, 1], [503, 2]]);
  assert.ok(Date.now() - started >= 1000, 'two backoffs of 0.375-0.5 s and 0.75-1 s');
});

test('openai: x-should-retry false stops the retries, retry-after-ms sets the wait', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1` });
  let before = (await fleet.journal('openai')).length;
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fault('busy;should_retry=false')));
  assert.deepEqual(await attemptsSince('openai', before), [[503, 0]]);

  before = (await fleet.journal('openai')).length;
  const started = Date.now();
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages },
    fault('busy;status=429;retry_after_ms=100')), (err) => err instanceof OpenAI.RateLimitError);
  const elapsed = Date.now() - started;
  assert.deepEqual(await attemptsSince('openai', before), [[429, 0], [429, 1], [429, 2]]);
  // The fleet runs at time_scale 60: 100 ms of scenario time is under 2 ms of wall time, so
  // the SDK's waits follow the header rather than its own 0.5-1 s backoff.
  assert.ok(elapsed < 700, `waited ${elapsed} ms`);
});

test('openai: an in-band stream error after a 200 is thrown and never retried', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1` });
  const before = (await fleet.journal('openai')).length;
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true },
    fault('stream_error;after_tokens=3;status=500'));
  let text = '';
  await assert.rejects((async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  })(), (err) => err instanceof OpenAI.APIError && /The server had an error/.test(err.message));
  assert.ok(text.length > 0, 'tokens arrived before the error');
  assert.doesNotMatch(text, TAG);
  assert.deepEqual(await attemptsSince('openai', before), [[200, 0]]);
});

test('openai: a stream that stalls behind keep-alive comments never times out by itself', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1`, timeout: 500 });
  const controller = new AbortController();
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true },
    { ...fault('stall;after_tokens=2;keepalive=true;keepalive_interval=6s'), signal: controller.signal });
  let aborted = false;
  const timer = setTimeout(() => { aborted = true; controller.abort(); }, 1500);  // 3x the SDK timeout
  let tokens = 0;
  try {
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) tokens += 1;
  } catch (err) {
    assert.ok(err.name === 'AbortError' || err instanceof OpenAI.APIUserAbortError, `got ${err}`);
  }
  clearTimeout(timer);
  assert.ok(aborted, 'the stream ended only because the test gave up on it');
  assert.equal(tokens, 2, 'two tokens, then nothing but keep-alive comments');
});

test('openai: a stream cut without [DONE] ends quietly with a partial answer', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1` });
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true },
    fault('malformed;variant=missing_done'));
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.match(text, TAG, 'here the answer was complete; only the terminator was missing');
});

test('openai: a connection reset is retried, then APIConnectionError', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1` });
  const before = (await fleet.journal('openai')).length;
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fault('outage;mode=reset')),
    (err) => err instanceof OpenAI.APIConnectionError);
  assert.deepEqual(await attemptsSince('openai', before), [[0, 0], [0, 1], [0, 2]]);
});

test('openai: an HTML 502 from a proxy is still an InternalServerError, and retried', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1`, maxRetries: 1 });
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fault('malformed;variant=html_502')),
    (err) => err instanceof OpenAI.InternalServerError && err.status === 502 && /Bad Gateway/.test(err.message));
});

// DeepSeek under load ("hold"): 200 at once, keep-alives, then the answer — or not. None of it
// is an HTTP error, so the SDK retries none of it: the application has to notice.
test('openai: a hold answers after its blank lines; empty, interrupted and closed ones are never retried', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls.openai}/v1` });
  const before = (await fleet.journal('openai')).length;
  const held = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fault('hold;wait=60s;interval=10s;then=answer'));
  assert.match(held.choices[0].message.content, TAG, 'leading blank lines are JSON whitespace');

  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fault('hold;wait=60s;interval=10s;then=empty')),
    (err) => err instanceof SyntaxError, 'a blank body is a JSON parse error, not an APIError');

  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true },
    fault('hold;wait=60s;interval=10s;then=interrupted;after_tokens=4'));
  let text = '';
  let finish;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'insufficient_system_resource');
  assert.doesNotMatch(text, TAG, 'the answer is cut short, yet the stream ended cleanly');

  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fault('hold;wait=60s;interval=10s;then=close')),
    (err) => !(err instanceof OpenAI.APIError), 'a body cut mid-way is a transport error');
  assert.deepEqual((await fleet.journal('openai')).slice(before).map((a) => [a.status, a.retry_count, a.outcome]),
    [[200, 0, 'complete'], [200, 0, 'complete'], [200, 0, 'complete'], [200, 0, 'cut']]);
});

test('anthropic: 529 overloaded is retried, then surfaces with the overloaded_error body', async () => {
  const client = new Anthropic({ apiKey: 'k', baseURL: fleet.urls.anthropic });
  const before = (await fleet.journal('anthropic')).length;
  await assert.rejects(
    client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages }, fault('busy;status=529')),
    (err) => {
      assert.equal(err.status, 529);
      assert.equal(err.error.error.type, 'overloaded_error');
      assert.equal(err.error.error.message, 'Overloaded');
      return true;
    });
  assert.deepEqual(await attemptsSince('anthropic', before), [[529, 0], [529, 1], [529, 2]]);
});

test('anthropic: an error event mid-stream rejects finalMessage with overloaded_error', async () => {
  const client = new Anthropic({ apiKey: 'k', baseURL: fleet.urls.anthropic });
  const before = (await fleet.journal('anthropic')).length;
  const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages },
    fault('stream_error;after_tokens=2;status=529'));
  await assert.rejects(stream.finalMessage(), (err) => {
    assert.ok(err instanceof Anthropic.APIError, `got ${err.constructor.name}`);
    assert.match(err.message, /overloaded_error/);
    return true;
  });
  assert.deepEqual(await attemptsSince('anthropic', before), [[200, 0]]);
});
