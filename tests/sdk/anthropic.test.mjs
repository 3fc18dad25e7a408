// The official `@anthropic-ai/sdk` npm package against the mock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startFleet, TAG } from './fleet.mjs';

let fleet;
let client;
before(async () => {
  fleet = await startFleet();
  client = new Anthropic({ apiKey: 'sk-ant-brownout', baseURL: fleet.urls.anthropic });
});
after(async () => assert.equal(await fleet.stop(), 0));

const params = { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude' }] };

test('messages.create returns a verifiable text block with usage and request id', async () => {
  const msg = await client.messages.create(params);
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.stop_reason, 'end_turn');
  assert.match(msg.content[0].text, TAG);
  assert.equal(msg.usage.output_tokens > 0, true);
  assert.match(msg._request_id, /^req_/);
});

test('messages.stream yields the same answer through the real event sequence', async () => {
  const whole = await client.messages.create(params);
  const events = [];
  const stream = client.messages.stream(params);
  stream.on('streamEvent', (event) => events.push(event.type));
  const final = await stream.finalMessage();
  assert.equal(final.content[0].text, whole.content[0].text);
  assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
  assert.equal(events[0], 'message_start');
  assert.equal(events.at(-1), 'message_stop');
  assert.ok(events.includes('content_block_delta'));
});

test('create with stream: true iterates raw events', async () => {
  const stream = await client.messages.create({ ...params, stream: true });
  let text = '';
  for await (const event of stream) {
    if (event.type === 'content_block_delta') text += event.delta.text;
  }
  assert.match(text, TAG);
});

test('an image block is accepted', async () => {
  const msg = await client.messages.create({ ...params, messages: [{ role: 'user', content: [
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'text', text: 'Describe this image.' },
  ] }] });
  assert.match(msg.content[0].text, TAG);
});

test('tool_choice any returns a tool_use block', async () => {
  const msg = await client.messages.create({ ...params, tool_choice: { type: 'any' }, tools: [{
    name: 'get_weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }] });
  assert.equal(msg.stop_reason, 'tool_use');
  assert.equal(msg.content[0].type, 'tool_use');
  assert.ok(msg.content[0].input.location.startsWith('bo-'));
});

test('models.list pages through the provider models', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, ['claude-sonnet-4-5']);
});

test('an unknown model surfaces as NotFoundError with the Anthropic error body', async () => {
  await assert.rejects(client.messages.create({ ...params, model: 'claude-nope' }), (err) => {
    assert.ok(err instanceof Anthropic.NotFoundError, `got ${err.constructor.name}`);
    assert.equal(err.status, 404);
    assert.equal(err.error.type, 'error');
    assert.equal(err.error.error.type, 'not_found_error');
    assert.match(err.requestID, /^req_/);
    return true;
  });
});

test('a rate-limited request surfaces as RateLimitError when retries are off, and succeeds with them', async () => {
  const limited = new Anthropic({ apiKey: 'k', baseURL: fleet.urls['limited-claude'], maxRetries: 0 });
  await limited.messages.create(params);
  await assert.rejects(limited.messages.create(params), (err) => {
    assert.ok(err instanceof Anthropic.RateLimitError, `got ${err.constructor.name}`);
    assert.equal(err.error.error.type, 'rate_limit_error');
    assert.equal(err.headers.get('anthropic-ratelimit-requests-remaining'), '0');
    return true;
  });
  const retrying = new Anthropic({ apiKey: 'k', baseURL: fleet.urls['limited-claude'] });
  const msg = await retrying.messages.create(params);
  assert.match(msg.content[0].text, TAG);
  const attempts = await fleet.journal('limited-claude');
  assert.ok(attempts.some((a) => a.status === 200 && a.retry_count >= 1), JSON.stringify(attempts));
});
