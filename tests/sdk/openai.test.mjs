// The official `openai` npm package against the mock: it must not tell the mock from the real API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFleet, TAG } from './fleet.mjs';

let fleet;
let client;
before(async () => {
  fleet = await startFleet();
  client = new OpenAI({ apiKey: 'sk-brownout', baseURL: `${fleet.urls.openai}/v1` });
});
after(async () => assert.equal(await fleet.stop(), 0));

const messages = [{ role: 'user', content: 'What is brownout?' }];

test('chat.completions.create returns a verifiable answer with usage and request id', async () => {
  const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  assert.equal(res.object, 'chat.completion');
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.match(res.choices[0].message.content, TAG);
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
  assert.match(res._request_id, /^req_/);
});

test('a stream with include_usage yields the same answer, then a usage chunk with no choices', async () => {
  const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let chunks = 0;
  let finish = null;
  for await (const chunk of stream) {
    chunks += 1;
    if (chunk.usage) {
      assert.deepEqual(chunk.choices, []);
      usage = chunk.usage;
    }
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, 'stop');
  assert.ok(chunks > 3);
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
});

test('the stream helper assembles the final completion', async () => {
  const runner = client.chat.completions.stream({ model: 'gpt-4o-mini', messages });
  const final = await runner.finalChatCompletion();
  assert.match(final.choices[0].message.content, TAG);
});

test('models.list and models.retrieve', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, ['gpt-4o-mini', 'gpt-4o']);
  const one = await client.models.retrieve('gpt-4o');
  assert.equal(one.object, 'model');
});

test('an image part is accepted and answered', async () => {
  const res = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: [
      { type: 'text', text: 'What is in this image?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ] }],
  });
  assert.match(res.choices[0].message.content, TAG);
});

test('a required tool choice returns a tool call with JSON arguments', async () => {
  const res = await client.chat.completions.create({
    model: 'gpt-4o-mini', messages, tool_choice: 'required',
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: {
      type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
  });
  const call = res.choices[0].message.tool_calls[0];
  assert.equal(res.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.function.name, 'get_weather');
  assert.ok(JSON.parse(call.function.arguments).city.startsWith('bo-'));
});

test('an unknown model surfaces as NotFoundError, not retried', async () => {
  const before = (await fleet.journal('openai')).length;
  await assert.rejects(client.chat.completions.create({ model: 'gpt-9', messages }), (err) => {
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err.constructor.name}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.match(err.requestID, /^req_/);
    return true;
  });
  assert.equal((await fleet.journal('openai')).length, before + 1);
});

test('a bad parameter surfaces as BadRequestError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 0 }),
    (err) => err instanceof OpenAI.BadRequestError && err.param === 'max_tokens');
});

test('a 429 with Retry-After is retried after the wait, and the journal counts the retry', async () => {
  const limited = new OpenAI({ apiKey: 'sk-brownout', baseURL: `${fleet.urls.limited}/v1` });
  await limited.chat.completions.create({ model: 'gpt-4o-mini', messages });  // empties the bucket
  const started = Date.now();
  const res = await limited.chat.completions.create({ model: 'gpt-4o-mini', messages });
  assert.match(res.choices[0].message.content, TAG);
  assert.ok(Date.now() - started >= 500, 'the SDK waited for Retry-After');
  const attempts = await fleet.journal('limited');
  assert.deepEqual(attempts.map((a) => [a.status, a.retry_count]), [[200, 0], [429, 0], [200, 1]]);
});

test('with retries off, a 429 surfaces as RateLimitError with the real body', async () => {
  const limited = new OpenAI({ apiKey: 'sk-brownout', baseURL: `${fleet.urls.limited}/v1`, maxRetries: 0 });
  await limited.chat.completions.create({ model: 'gpt-4o-mini', messages }).catch(() => {});
  await assert.rejects(limited.chat.completions.create({ model: 'gpt-4o-mini', messages }), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err.constructor.name}`);
    assert.equal(err.code, 'rate_limit_exceeded');
    assert.equal(err.type, 'requests');
    assert.ok(Number(err.headers.get('retry-after')) > 0, 'Retry-After says when the bucket has room (wall seconds)');
    assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
    return true;
  });
});
