// The official openai SDK (7.59.0, Node 22) against the Responses API every OpenAI provider
// serves beside chat completions: responses.create, the raw event stream and responses.stream(),
// tools, and each fault in this API's own form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFleet, TAG } from './fleet.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => assert.equal(await fleet.stop(), 0));

const model = 'gpt-4o-mini';
const input = 'Is the API up?';
const client = (provider = 'openai', maxRetries) =>
  new OpenAI({ apiKey: 'k', baseURL: `${fleet.urls[provider]}/v1`, ...(maxRetries === undefined ? {} : { maxRetries }) });
const fault = (value) => ({ headers: { 'x-brownout-fault': value } });
const attemptsSince = async (before) => (await fleet.journal('openai')).slice(before).map((a) => [a.status, a.path]);

test('responses.create: a response object whose output_text is verified', async () => {
  const res = await client().responses.create({ model, input, instructions: 'You are terse.' });
  assert.equal(res.object, 'response');
  assert.equal(res.status, 'completed');
  assert.match(res.id, /^resp_/);
  assert.match(res.output_text, TAG);
  assert.equal(res.output[0].type, 'message');
  assert.ok(res.usage.output_tokens > 0 && res.usage.total_tokens === res.usage.input_tokens + res.usage.output_tokens);
  const journal = await fleet.journal('openai');
  assert.equal(journal.at(-1).path, '/v1/responses');
});

test('the raw event stream: semantic events with sequence numbers, ending in response.completed', async () => {
  const stream = await client().responses.create({ model, input, stream: true });
  const types = [];
  let text = '';
  let last = -1;
  for await (const event of stream) {
    types.push(event.type);
    assert.equal(event.sequence_number, last + 1);
    last = event.sequence_number;
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
  assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
  assert.match(text, TAG);
});

test('responses.stream(): the SDK accumulates the events into the final response', async () => {
  const stream = client().responses.stream({ model, input });
  const final = await stream.finalResponse();
  assert.equal(final.status, 'completed');
  assert.match(final.output_text, TAG);
});

test('a function tool, required: a function_call item with its arguments', async () => {
  const tools = [{ type: 'function', name: 'lookup_order', parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] }, strict: false }];
  const res = await client().responses.create({ model, input, tools, tool_choice: 'required' });
  const call = res.output.find((o) => o.type === 'function_call');
  assert.equal(call.name, 'lookup_order');
  assert.match(JSON.parse(call.arguments).order_id, /^bo-[0-9a-f]{8}$/);
  const streamed = await client().responses.stream({ model, input, tools, tool_choice: 'required' }).finalResponse();
  assert.equal(streamed.output[0].arguments, call.arguments);
});

test('a vendor without the Responses API (DeepSeek) answers 404: NotFoundError', async () => {
  await assert.rejects(client('deepseek').responses.create({ model: 'deepseek-chat', input }),
    (err) => err instanceof OpenAI.NotFoundError && /Invalid URL \(POST \/v1\/responses\)/.test(err.message));
});

test('faults: a busy 503 is retried twice, then InternalServerError, as for chat', async () => {
  const before = (await fleet.journal('openai')).length;
  await assert.rejects(client().responses.create({ model, input }, fault('busy')),
    (err) => err instanceof OpenAI.InternalServerError && err.status === 503);
  assert.deepEqual(await attemptsSince(before), [[503, '/v1/responses'], [503, '/v1/responses'], [503, '/v1/responses']]);
});

test('faults: a rate limit is a RateLimitError; a lost feature a BadRequestError', async () => {
  await assert.rejects(client(undefined, 0).responses.create({ model, input }, fault('busy;status=429;retry_after=1s')),
    (err) => err instanceof OpenAI.RateLimitError);
  await assert.rejects(client().responses.create({ model, input: [{ role: 'user', content: [
    { type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: 'https://images.brownout.test/a.png', detail: 'auto' }] }] },
  fault('feature_loss;features=["vision"]')), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError, err.constructor.name);
    assert.match(err.message, /is only supported by certain models/);
    return true;
  });
});

test('stream faults: an in-stream error event throws APIError after some text', async () => {
  let text = '';
  await assert.rejects((async () => {
    for await (const event of await client().responses.create({ model, input, stream: true }, fault('stream_error;after_tokens=3;status=500')))
      if (event.type === 'response.output_text.delta') text += event.delta;
  })(), (err) => {
    assert.ok(err instanceof OpenAI.APIError, err.constructor.name);
    assert.match(err.message, /The server had an error/);
    return true;
  });
  assert.ok(text.length > 0);
  assert.doesNotMatch(text, TAG);
});

test('stream faults: a cut stream rejects responses.stream(); one without its terminal event resolves unfinished', async () => {
  await assert.rejects(client().responses.stream({ model, input }, fault('disconnect;after_tokens=3')).finalResponse());
  const unfinished = await client().responses.stream({ model, input }, fault('malformed;variant=missing_done')).finalResponse();
  assert.equal(unfinished.status, 'in_progress', 'the SDK resolves with its last snapshot');
  assert.match(unfinished.output_text, TAG);
});
