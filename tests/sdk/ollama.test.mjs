// The official `ollama` npm client against brownout's Ollama dialect: chat and generate, streamed
// and not, tools, the model list, and every fault in Ollama's own form (ollama-js does not retry,
// so each fault is exactly one attempt in the journal).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { startFleet, TAG } from './fleet.mjs';

let fleet;
before(async () => { fleet = await startFleet(); });
after(async () => assert.equal(await fleet.stop(), 0));

const messages = [{ role: 'user', content: 'Is the API up?' }];
// ollama-js sends the headers of its config with every request: one client per forced fault.
const client = (fault) => new Ollama({ host: fleet.urls.ollama, headers: fault ? { 'x-brownout-fault': fault } : {} });

async function collect(stream) {
  let text = '';
  let last;
  for await (const part of stream) {
    text += part.message ? part.message.content : part.response;
    last = part;
  }
  return { text, last };
}

test('ollama: chat, one JSON object, verified, with counts and durations', async () => {
  const res = await client().chat({ model: 'llama3.2', messages });
  assert.match(res.message.content, TAG);
  assert.equal(res.done, true);
  assert.equal(res.done_reason, 'stop');
  assert.ok(res.eval_count > 0 && res.prompt_eval_count > 0);
  assert.ok(res.eval_duration > 0 && res.total_duration >= res.eval_duration);
  assert.match(res.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('ollama: chat streamed as NDJSON ends with a done line', async () => {
  const { text, last } = await collect(await client().chat({ model: 'llama3.2', messages, stream: true }));
  assert.match(text, TAG);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
  assert.ok(last.eval_count > 1);
});

test('ollama: generate, plain and streamed, answers in "response"', async () => {
  const res = await client().generate({ model: 'llama3.2', prompt: 'Is the API up?' });
  assert.match(res.response, TAG);
  assert.ok(Array.isArray(res.context));
  const { text, last } = await collect(await client().generate({ model: 'llama3.2', prompt: 'Is the API up?', stream: true }));
  assert.match(text, TAG);
  assert.equal(last.done, true);
});

test('ollama: tools come back as a call with an object of arguments', async () => {
  const tools = [{ type: 'function', function: { name: 'lookup_order', description: 'Look an order up',
    parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } }];
  const res = await client().chat({ model: 'llama3.2', messages, tools });
  const call = res.message.tool_calls[0];
  assert.equal(call.function.name, 'lookup_order');
  assert.match(call.function.arguments.order_id, /^bo-[0-9a-f]{8}$/);
});

test('ollama: the model list, and an image a text model passes over', async () => {
  const list = await client().list();
  assert.deepEqual(list.models.map((m) => m.name), ['llama3.2']);
  assert.equal(list.models[0].details.format, 'gguf');
  const res = await client().chat({ model: 'llama3.2', messages: [{ ...messages[0], images: ['aGVsbG8='] }] });
  assert.match(res.message.content, TAG);  // answered, from the text alone
});

// Each fault once, in Ollama's form, as the client surfaces it.
const faults = [
  { name: 'queue full: 503 server busy', fault: 'busy', status: 503,
    message: /^server busy, please try again\.  maximum pending requests exceeded$/ },
  { name: 'a rate limit in front of it: 429', fault: 'busy;status=429', status: 429, message: /too many requests/ },
  { name: 'the runner crashed: 500', fault: 'busy;status=500', status: 500, message: /llama runner process has terminated/ },
];
for (const f of faults) {
  test(`ollama fault: ${f.name} is a ResponseError`, async () => {
    const before = (await fleet.journal('ollama')).length;
    await assert.rejects(client(f.fault).chat({ model: 'llama3.2', messages }), (err) => {
      assert.equal(err.name, 'ResponseError');
      assert.equal(err.status_code, f.status);
      assert.match(err.message, f.message);
      return true;
    });
    const attempts = (await fleet.journal('ollama')).slice(before);
    assert.deepEqual(attempts.map((a) => a.status), [f.status], 'ollama-js does not retry');
  });
}

test('ollama fault: an unknown model is a 404 ResponseError', async () => {
  await assert.rejects(client().chat({ model: 'qwen3', messages }), (err) => {
    assert.equal(err.status_code, 404);
    assert.equal(err.message, "model 'qwen3' not found");
    return true;
  });
});

test('ollama fault: a lost feature (tools) is a 400 in Ollama words', async () => {
  const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
  await assert.rejects(client('feature_loss;features=["tools"]').chat({ model: 'llama3.2', messages, tools }), (err) => {
    assert.equal(err.status_code, 400);
    assert.match(err.message, /does not support tools/);
    return true;
  });
});

const streamFaults = [
  { name: 'an error line mid-stream', fault: 'stream_error;after_tokens=3;status=500', error: /llama runner process has terminated/ },
  { name: 'a stream cut mid-way', fault: 'disconnect;after_tokens=3', error: /terminated|Did not receive done|aborted|socket/i },
  { name: 'a truncated last line', fault: 'malformed;variant=truncated_sse', error: /Did not receive done|terminated/i },
  // Every token arrived, only the done line did not: the client still throws.
  { name: 'a stream without its done line', fault: 'malformed;variant=missing_done', error: /Did not receive done/, whole: true },
];
for (const f of streamFaults) {
  test(`ollama stream fault: ${f.name} throws after some tokens`, async () => {
    let got = '';
    await assert.rejects((async () => {
      for await (const part of await client(f.fault).chat({ model: 'llama3.2', messages, stream: true })) got += part.message.content;
    })(), (err) => {
      assert.match(err.message, f.error);
      return true;
    });
    assert.ok(got.length > 0, 'some tokens arrived first');
    if (f.whole) assert.match(got, TAG);
    else assert.doesNotMatch(got, TAG);
  });
}

test('ollama stream fault: a stall is silent (NDJSON has no keep-alive) until the client gives up', async () => {
  const c = client('stall;after_tokens=2;keepalive=true;keepalive_interval=6s');
  const stream = await c.chat({ model: 'llama3.2', messages, stream: true });
  setTimeout(() => stream.abort(), 500);
  let got = '';
  await assert.rejects((async () => { for await (const part of stream) got += part.message.content; })(),
    (err) => err.name === 'AbortError' || /abort/i.test(err.message));
  assert.ok(got.length > 0);
  const last = (await fleet.journal('ollama')).at(-1);
  assert.equal(last.fault, 'stall');
});
